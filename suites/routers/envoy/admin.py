#!/usr/bin/env python3
"""Asks Envoy's admin API what it serves (the router's own word, never the profile's).

  admin.py PORT weight           green's weight in the route Envoy serves now
  admin.py PORT await PERCENT    waits (10 s at most) until Envoy serves green at PERCENT
  admin.py PORT epoch N          waits (30 s at most) until restart epoch N answers
  admin.py PORT runtime PERCENT  sets the runtime weights (the runtime_modify variant)
  admin.py PORT runtime-weight   green's weight in Envoy's runtime (that variant)
  admin.py PORT healthy ENV…     exits 1 unless Envoy's health checks find each ENV healthy
  admin.py PORT endpoint-weight BLUE GREEN   green's share of the `environments` cluster's
                                 endpoint weights (the ring-hash variant; hosts as host:port)
  admin.py PORT await-endpoints PERCENT BLUE GREEN   waits until Envoy serves that share
"""
import json
import sys
import time
import urllib.request


def get(port, path, method="GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(request, timeout=2) as answer:
        return answer.read().decode()


def green_weight(port):
    """Green's share, in percent, of the weighted clusters of the served route."""
    dump = json.loads(get(port, "/config_dump?resource=dynamic_route_configs"))
    for config in dump.get("configs", []):
        for host in config["route_config"].get("virtual_hosts", []):
            for route in host.get("routes", []):
                clusters = route.get("route", {}).get("weighted_clusters", {}).get("clusters", [])
                weights = {c["name"]: int(c.get("weight", 0)) for c in clusters}
                total = sum(weights.values())
                if total:
                    return round(100 * weights.get("green", 0) / total)
    raise SystemExit("no weighted route in Envoy's config dump")


def endpoint_weight(port, blue, green):
    """Green's share, in percent, of the endpoint weights Envoy holds for `environments`."""
    statuses = json.loads(get(port, "/clusters?format=json"))["cluster_statuses"]
    hosts = next((c.get("host_statuses", []) for c in statuses if c["name"] == "environments"), [])
    weights = {}
    for host in hosts:
        address = host["address"]["socket_address"]
        # A host its health checks have not passed yet (a new one starts so) is not on the ring.
        failed = any(k.startswith("failed") or k.startswith("pending") for k, v in host.get("health_status", {}).items() if v)
        weights[f"{address['address']}:{address['port_value']}"] = 0 if failed else int(host.get("weight", 1))
    total = weights.get(blue, 0) + weights.get(green, 0)
    if not total:
        raise SystemExit(f"Envoy holds neither {blue} nor {green} in the environments cluster")
    return round(100 * weights.get(green, 0) / total)


def until(deadline_s, probe, want):
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last == want:
                return
        except Exception as error:  # Envoy between epochs, or the route not yet loaded
            last = error
        time.sleep(0.05)
    raise SystemExit(f"Envoy still serves {last!r}, not {want!r}, after {deadline_s} s")


def main():
    port, command = sys.argv[1], sys.argv[2]
    if command == "weight":
        print(green_weight(port))
    elif command == "await":
        until(10, lambda: green_weight(port), int(sys.argv[3]))
    elif command == "epoch":
        until(30, lambda: json.loads(get(port, "/server_info"))["command_line_options"]["restart_epoch"], int(sys.argv[3]))
    elif command == "healthy":
        statuses = json.loads(get(port, "/clusters?format=json"))["cluster_statuses"]
        sick = []
        for env in sys.argv[3:]:
            hosts = next((c.get("host_statuses", []) for c in statuses if c["name"] == env), [])
            failed = [h for h in hosts if any(k.startswith("failed") and v for k, v in h.get("health_status", {}).items())]
            if not hosts or failed:
                sick.append(f"{env}: {json.dumps(failed[0]['health_status']) if failed else 'no host'}")
        if sick:
            raise SystemExit("Envoy's health checks fail " + "; ".join(sick))
        print("healthy: " + ", ".join(sys.argv[3:]))
    elif command == "endpoint-weight":
        print(endpoint_weight(port, sys.argv[3], sys.argv[4]))
    elif command == "await-endpoints":
        until(10, lambda: endpoint_weight(port, sys.argv[4], sys.argv[5]), int(sys.argv[3]))
    elif command == "runtime-weight":
        entries = json.loads(get(port, "/runtime"))["entries"]
        value = lambda key, default: int(entries.get(key, {}).get("final_value") or default)
        blue, green = value("routing.split.blue", 100), value("routing.split.green", 0)
        print(round(100 * green / (blue + green)) if blue + green else 0)
    elif command == "runtime":
        green = int(sys.argv[3])
        print(get(port, f"/runtime_modify?routing.split.blue={100 - green}&routing.split.green={green}", "POST"))
    else:
        raise SystemExit(f"unknown command {command!r}")


main()
