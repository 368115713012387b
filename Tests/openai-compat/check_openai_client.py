"""The official OpenAI Python client, unchanged, against the mock upstream relay, then
through the reference router in front of it (the router reads HTTP/1.1 itself, so a real
client's requests and streams are its best test).

Usage: check_openai_client.py PATH/TO/mock-upstream [PATH/TO/bluegreen-router]

Starts its own mocks and router (loopback, port 0), always stops them, and prints
'N passed, N failed' as its last line; exits non-zero on any failure.
"""
import json
import subprocess
import sys
import urllib.request

import openai

MOCK = sys.argv[1]
ROUTER = sys.argv[2] if len(sys.argv) > 2 else None
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name} {detail}")


class Child:
    """A child process that prints a JSON ready line, stopped on exit whatever happens."""

    def __init__(self, *command):
        self.proc = subprocess.Popen([*command], stdout=subprocess.PIPE, text=True)
        self.ready = json.loads(self.proc.stdout.readline())
        self.url = self.ready["url"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Mock(Child):
    """A mock-upstream child process."""

    def __init__(self, *args):
        super().__init__(MOCK, "--log-level", "error", *args)
        self.admin = self.ready["admin"]

    def faults(self, faults):
        request = urllib.request.Request(self.admin + "/_mock/faults", data=json.dumps({"faults": faults}).encode(), method="PUT")
        urllib.request.urlopen(request, timeout=5).read()



def client(server, key="sk-test"):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=10)


def expect_error(name, kind, status, call):
    try:
        call()
        check(name, False, "no exception")
    except kind as error:
        check(name, error.status_code == status and isinstance(error.body, dict) and "message" in error.body,
              f"status={getattr(error, 'status_code', None)} body={getattr(error, 'body', None)}")
    except Exception as error:  # noqa: BLE001 - report any other failure as a failed check
        check(name, False, f"{type(error).__name__}: {error}")


def relay_checks(mock, server, via):
    """The client's calls against `server` (the mock itself, or the router in front of it)."""
    c = client(server)
    models = [m.id for m in c.models.list()]
    check(f"{via}models.list", models == ["gpt-4.1", "claude-sonnet-4.5", "gemini-2.5-flash", "deepseek-v3.2"], models)
    check(f"{via}models.retrieve", c.models.retrieve("deepseek-v3.2").id == "deepseek-v3.2")

    completion = c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hello"}], max_tokens=9)
    content = completion.choices[0].message.content
    check(f"{via}chat.completions.create", completion.object == "chat.completion" and len(content.split()) == 9, content)
    check(f"{via}usage", completion.usage.completion_tokens == 9 and completion.usage.total_tokens == completion.usage.prompt_tokens + 9)
    check(f"{via}finish_reason", completion.choices[0].finish_reason == "length")

    raw = c.chat.completions.with_raw_response.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Request-ID": "compat-1"})
    check(f"{via}identity headers", raw.headers.get("x-upstream-env") == "blue" and raw.headers.get("x-request-id") == "compat-1")
    if server is not mock:
        check(f"{via}router stamp", raw.headers.get("x-environment") == "blue", dict(raw.headers))

    stream = c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hello"}], max_tokens=6,
                                       stream=True, stream_options={"include_usage": True})
    pieces, usage, finish = [], None, None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    check(f"{via}streamed completion", len("".join(pieces).split()) == 6 and finish == "length", pieces)
    check(f"{via}stream include_usage", usage is not None and usage.completion_tokens == 6)

    expect_error(f"{via}404 unknown model", openai.NotFoundError, 404,
                 lambda: c.chat.completions.create(model="gpt-0", messages=[{"role": "user", "content": "x"}]))
    expect_error(f"{via}400 empty messages", openai.BadRequestError, 400,
                 lambda: c.chat.completions.create(model="gpt-4.1", messages=[]))

    mock.faults([{"id": "limited", "kind": "status", "status": 429, "retry_after": 1}])
    expect_error(f"{via}429 rate limit", openai.RateLimitError, 429, lambda: c.models.list())
    mock.faults([{"id": "broken", "kind": "status", "status": 503}])
    expect_error(f"{via}503 server error", openai.InternalServerError, 503,
                 lambda: c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}]))
    mock.faults([{"id": "boom", "kind": "stream-error", "after_chunks": 2}])
    try:
        for _ in c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}], stream=True):
            pass
        check(f"{via}stream-error raises APIError", False, "stream ended without an error")
    except openai.APIError as error:
        check(f"{via}stream-error raises APIError", "server had an error" in str(error), str(error))
    mock.faults([{"id": "cut", "kind": "stream-cut", "after_chunks": 2}])
    try:
        for _ in c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}], stream=True):
            pass
        check(f"{via}stream-cut is a transport error", False, "stream ended normally")
    except Exception as error:  # noqa: BLE001 - httpx raises its own error types here
        transport = isinstance(error, openai.APIConnectionError) or "incomplete" in str(error).lower() or "peer closed" in str(error).lower()
        check(f"{via}stream-cut is a transport error", transport and not isinstance(error, openai.APIStatusError), repr(error))

    mock.faults([])


with Mock("--name", "blue", "--seed", "3") as mock:
    relay_checks(mock, mock, "")
    if ROUTER:
        with Child(ROUTER, "--blue", mock.url, "--green", mock.url, "--health-interval", "0s", "--log-level", "error") as router:
            relay_checks(mock, router, "router: ")

with Mock("--name", "green", "--api-key", "sk-right") as mock:
    expect_error("401 wrong key", openai.AuthenticationError, 401, lambda: client(mock, "sk-wrong").models.list())
    check("right key", len(client(mock, "sk-right").models.list().data) == 4)
    if ROUTER:
        with Child(ROUTER, "--blue", mock.url, "--green", mock.url, "--health-interval", "0s", "--log-level", "error") as router:
            expect_error("router: 401 wrong key", openai.AuthenticationError, 401, lambda: client(router, "sk-wrong").models.list())
            check("router: right key passes through", len(client(router, "sk-right").models.list().data) == 4)

print(f"openai {openai.__version__}")
print(f"openai-compat: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
