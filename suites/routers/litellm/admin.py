#!/usr/bin/env python3
"""Asks LiteLLM's proxy what it serves (its own word, never the profile's).

  admin.py URL KEY weight        green's weight in the model groups the proxy serves now
"""
import json
import sys
import urllib.request


def get(url, key, path, timeout):
    request = urllib.request.Request(f"{url}{path}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.load(answer)


def env_of(endpoint):
    """blue or green, from the deployment's id (MODEL-ENV in the rendered configuration)."""
    return endpoint.get("model_info", {}).get("id", endpoint.get("id", "")).rsplit("-", 1)[-1]


def main():
    url, key, command = sys.argv[1], sys.argv[2], sys.argv[3]
    if command == "weight":
        weights = {"blue": 0, "green": 0}
        for deployment in get(url, key, "/model/info", 5)["data"]:
            env = env_of(deployment)
            if env in weights:
                weights[env] += int(deployment.get("litellm_params", {}).get("weight", 1) or 0)
        total = sum(weights.values())
        print(round(100 * weights["green"] / total) if total else 0)
    else:
        raise SystemExit(f"unknown command {command!r}")


main()
