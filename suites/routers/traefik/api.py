#!/usr/bin/env python3
"""Asks Traefik's API what it serves (the router's own word, never the profile's).

  api.py PORT weight            green's weight in the weighted service Traefik runs now
  api.py PORT await PERCENT     waits (10 s at most) until Traefik serves green at PERCENT
  api.py PORT healthy ENV…      exits 1 unless Traefik's health checks find each ENV up
"""
import json
import sys
import time
import urllib.request


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
        return json.load(answer)


def green_weight(port):
    services = get(port, "/api/http/services/bluegreen@file")["weighted"]["services"]
    weights = {s["name"].split("@")[0]: s.get("weight", 1) for s in services}
    total = sum(weights.values())
    return round(100 * weights.get("green", 0) / total) if total else 0


def main():
    port, command = sys.argv[1], sys.argv[2]
    if command == "weight":
        print(green_weight(port))
    elif command == "await":
        want, last = int(sys.argv[3]), None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                last = green_weight(port)
                if last == want:
                    return
            except Exception as error:  # the new configuration not yet applied
                last = error
            time.sleep(0.05)
        raise SystemExit(f"Traefik still serves green at {last!r}, not {want}, after 10 s")
    elif command == "healthy":
        sick = []
        for env in sys.argv[3:]:
            status = get(port, f"/api/http/services/{env}@file").get("serverStatus", {})
            if not status or any(state != "UP" for state in status.values()):
                sick.append(f"{env}: {status or 'no server status'}")
        if sick:
            raise SystemExit("Traefik's health checks fail " + "; ".join(sick))
        print("healthy: " + ", ".join(sys.argv[3:]))
    else:
        raise SystemExit(f"unknown command {command!r}")


main()
