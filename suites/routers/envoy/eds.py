#!/usr/bin/env python3
"""Writes the endpoints of Envoy's `environments` cluster for green at PERCENT (file-based
EDS), and moves the file into the folder Envoy watches in one rename. An environment at
0 % is left out: EDS takes no weight 0.

  eds.py WORKDIR PERCENT BLUE_HOST BLUE_PORT GREEN_HOST GREEN_PORT
"""
import os
import sys

workdir, percent = sys.argv[1], int(sys.argv[2])
blue, green = (sys.argv[3], sys.argv[4]), (sys.argv[5], sys.argv[6])
endpoints = []
for (host, port), weight in ((blue, 100 - percent), (green, percent)):
    if weight > 0:
        endpoints.append(
            f"    - {{endpoint: {{address: {{socket_address: {{address: {host}, port_value: {port}}}}}}}, load_balancing_weight: {weight}}}"
        )
text = (
    "resources:\n"
    '- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n'
    "  cluster_name: environments\n"
    "  endpoints:\n"
    "  - lb_endpoints:\n" + "\n".join(endpoints) + "\n"
)
folder = os.path.join(workdir, "envoy-eds")
os.makedirs(folder, exist_ok=True)
scratch = os.path.join(workdir, "eds.yaml.next")
with open(scratch, "w") as out:
    out.write(text)
os.rename(scratch, os.path.join(folder, "eds.yaml"))
