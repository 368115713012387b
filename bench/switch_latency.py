"""Switch latency of a router: promote, run keep-alive load from several threads, call
rollback, and measure when the last request that green served had started, relative
to the moment the rollback call returned (<= 0 means: immediate)."""
import http.client
import json
import random
import sys
import threading
import time
import urllib.request
from urllib.parse import urlparse

router, admin = sys.argv[1], sys.argv[2]
stop = threading.Event()
records = []  # (start, environment)
lock = threading.Lock()


def load(seed):
    rnd = random.Random(seed)
    parsed = urlparse(router)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    local = []
    deadline = time.monotonic() + 4  # bounded even if stop is never set
    while not stop.is_set() and time.monotonic() < deadline:
        start = time.monotonic()
        conn.request("GET", "/v1/models", headers={"X-Session-ID": f"s{rnd.randrange(100000)}"})
        response = conn.getresponse()
        response.read()
        local.append((start, response.getheader("X-Environment")))
    with lock:
        records.extend(local)


def post(path):
    request = urllib.request.Request(admin + path, data=b"{}", method="POST")
    urllib.request.urlopen(request, timeout=5).read()


post("/admin/promote")
threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
time.sleep(1.0)
called = time.monotonic()
post("/admin/rollback")
returned = time.monotonic()
time.sleep(1.0)
stop.set()
for t in threads:
    t.join()
green_after = [s for s, env in records if env == "green" and s >= returned]
last_green = max((s for s, env in records if env == "green"), default=called)
after = [env for s, env in records if s >= returned]
print(f"  rollback call took {1000 * (returned - called):.2f} ms")
print(f"  requests started after it returned: {len(after)}, served by green: {len(green_after)}")
print(f"  switch latency (last green request start - rollback return): {max(0.0, 1000 * (last_green - returned)):.2f} ms")
