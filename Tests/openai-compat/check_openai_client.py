"""The official OpenAI Python client, unchanged, against the mock upstream relay.

Usage: check_openai_client.py PATH/TO/mock-upstream

Starts its own mocks (loopback, port 0), always stops them, and prints
'N passed, N failed' as its last line; exits non-zero on any failure.
"""
import json
import subprocess
import sys
import urllib.request

import openai

MOCK = sys.argv[1]
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name} {detail}")


class Mock:
    """A mock-upstream child process, stopped on exit whatever happens."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([MOCK, "--log-level", "error", *args], stdout=subprocess.PIPE, text=True)
        ready = json.loads(self.proc.stdout.readline())
        self.url, self.admin = ready["url"], ready["admin"]

    def faults(self, faults):
        request = urllib.request.Request(self.admin + "/_mock/faults", data=json.dumps({"faults": faults}).encode(), method="PUT")
        urllib.request.urlopen(request, timeout=5).read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def client(mock, key="sk-test"):
    return openai.OpenAI(base_url=mock.url + "/v1", api_key=key, max_retries=0, timeout=10)


def expect_error(name, kind, status, call):
    try:
        call()
        check(name, False, "no exception")
    except kind as error:
        check(name, error.status_code == status and isinstance(error.body, dict) and "message" in error.body,
              f"status={getattr(error, 'status_code', None)} body={getattr(error, 'body', None)}")
    except Exception as error:  # noqa: BLE001 - report any other failure as a failed check
        check(name, False, f"{type(error).__name__}: {error}")


with Mock("--name", "blue", "--seed", "3") as mock:
    c = client(mock)
    models = [m.id for m in c.models.list()]
    check("models.list", models == ["gpt-4.1", "claude-sonnet-4.5", "gemini-2.5-flash", "deepseek-v3.2"], models)
    check("models.retrieve", c.models.retrieve("deepseek-v3.2").id == "deepseek-v3.2")

    completion = c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hello"}], max_tokens=9)
    content = completion.choices[0].message.content
    check("chat.completions.create", completion.object == "chat.completion" and len(content.split()) == 9, content)
    check("usage", completion.usage.completion_tokens == 9 and completion.usage.total_tokens == completion.usage.prompt_tokens + 9)
    check("finish_reason", completion.choices[0].finish_reason == "length")

    raw = c.chat.completions.with_raw_response.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Request-ID": "compat-1"})
    check("identity headers", raw.headers.get("x-upstream-env") == "blue" and raw.headers.get("x-request-id") == "compat-1")

    stream = c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hello"}], max_tokens=6,
                                       stream=True, stream_options={"include_usage": True})
    pieces, usage, finish = [], None, None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    check("streamed completion", len("".join(pieces).split()) == 6 and finish == "length", pieces)
    check("stream include_usage", usage is not None and usage.completion_tokens == 6)

    expect_error("404 unknown model", openai.NotFoundError, 404,
                 lambda: c.chat.completions.create(model="gpt-0", messages=[{"role": "user", "content": "x"}]))
    expect_error("400 empty messages", openai.BadRequestError, 400,
                 lambda: c.chat.completions.create(model="gpt-4.1", messages=[]))

    mock.faults([{"id": "limited", "kind": "status", "status": 429, "retry_after": 1}])
    expect_error("429 rate limit", openai.RateLimitError, 429, lambda: c.models.list())
    mock.faults([{"id": "broken", "kind": "status", "status": 503}])
    expect_error("503 server error", openai.InternalServerError, 503,
                 lambda: c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}]))
    mock.faults([{"id": "boom", "kind": "stream-error", "after_chunks": 2}])
    try:
        for _ in c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}], stream=True):
            pass
        check("stream-error raises APIError", False, "stream ended without an error")
    except openai.APIError as error:
        check("stream-error raises APIError", "server had an error" in str(error), str(error))
    mock.faults([{"id": "cut", "kind": "stream-cut", "after_chunks": 2}])
    try:
        for _ in c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}], stream=True):
            pass
        check("stream-cut is a transport error", False, "stream ended normally")
    except Exception as error:  # noqa: BLE001 - httpx raises its own error types here
        transport = isinstance(error, openai.APIConnectionError) or "incomplete" in str(error).lower() or "peer closed" in str(error).lower()
        check("stream-cut is a transport error", transport and not isinstance(error, openai.APIStatusError), repr(error))

with Mock("--name", "green", "--api-key", "sk-right") as mock:
    expect_error("401 wrong key", openai.AuthenticationError, 401, lambda: client(mock, "sk-wrong").models.list())
    check("right key", len(client(mock, "sk-right").models.list().data) == 4)

print(f"openai {openai.__version__}")
print(f"openai-compat: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
