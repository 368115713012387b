#!/usr/bin/env python3
"""Asks Caddy's admin API what it serves (the router's own word, never the profile's).

  admin.py PORT weight    green's weight in the configuration Caddy runs now
"""
import json
import sys
import urllib.request


def main():
    port = sys.argv[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/config/", timeout=2) as answer:
        config = json.load(answer)
    for server in config["apps"]["http"]["servers"].values():
        for route in server.get("routes", []):
            for handler in walk(route):
                policy = handler.get("load_balancing", {}).get("selection_policy", {})
                if policy.get("policy") == "weighted_round_robin":
                    weights = policy.get("weights", [])
                    total = sum(weights)
                    print(round(100 * weights[1] / total) if total and len(weights) > 1 else 0)
                    return
    raise SystemExit("no weighted reverse_proxy in Caddy's configuration")


def walk(node):
    """Every handler of a route, also inside subroutes."""
    for handler in node.get("handle", []):
        yield handler
        for route in handler.get("routes", []):
            yield from walk(route)


main()
