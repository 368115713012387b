# Shared helpers for the benchmark scripts: child processes that always stop, free
# loopback ports, wrk output parsing.
set -euo pipefail
# The bench executables are part of the package only when asked for (Package.swift).
export CUTOVER_BENCH=1

bench_work=$(mktemp -d /tmp/cutover-bench.XXXXXX)
chmod 755 "$bench_work"  # nginx workers (www-data) read files from here
bench_pids=()
bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT INT TERM

# A free loopback port (bound, read, released).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_mock NAME [ARGS...]: starts a release mock in this shell; sets MOCK_URL, MOCK_ADMIN, MOCK_PID.
start_mock() {
  local name=$1; shift
  "$BIN/mock-upstream" --name "$name" --log-level error "$@" >"$bench_work/$name.out" &
  MOCK_PID=$!
  bench_pids+=("$MOCK_PID")
  for _ in $(seq 1 200); do [ -s "$bench_work/$name.out" ] && break; sleep 0.05; done
  MOCK_URL=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$bench_work/$name.out")
  MOCK_ADMIN=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["admin"])' "$bench_work/$name.out")
}

# start_nginx CONF_BODY [PROBE_URL]: runs nginx in the foreground as our child with a
# generated config, and waits until PROBE_URL answers.
start_nginx() {
  mkdir -p "$bench_work/nginx/logs"
  cat >"$bench_work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $bench_work/nginx/nginx.pid;
error_log $bench_work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  $1
}
CONF
  nginx -p "$bench_work/nginx" -c "$bench_work/nginx/nginx.conf" -g 'daemon off;' &
  bench_pids+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "${2:-http://127.0.0.1/}" && return 0
    sleep 0.05
  done
  echo "nginx did not start:" >&2
  cat "$bench_work/nginx/logs/error.log" >&2
  return 1
}

# wrk_rps URL [WRK ARGS...]: prints requests/s; the full output goes to $bench_work/wrk.last.
wrk_rps() {
  local url=$1; shift
  wrk "$@" "$url" >"$bench_work/wrk.last" 2>&1
  awk '/Requests\/sec/ {print $2}' "$bench_work/wrk.last"
}

# wrk_p99 prints the 99th percentile latency of the last wrk run with --latency, in ms.
wrk_p99() {
  awk '$1=="99%" { v=$2; if (v ~ /us$/) { sub(/us$/,"",v); v=v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) } else if (v ~ /s$/) { sub(/s$/,"",v); v=v*1000 }; print v }' "$bench_work/wrk.last"
}

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }

# tree_cpu_ticks PID: CPU time (user + system, in clock ticks) used so far by PID and every
# process below it, so a multi-process router (nginx's workers, HAProxy's master and worker)
# is counted whole.
tree_cpu_ticks() {
  python3 - "$1" <<'PY'
import os, sys
stats = {}
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            text = open(f"/proc/{name}/stat").read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        stats[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
todo, total = [int(sys.argv[1])], 0
while todo:
    pid = todo.pop()
    total += stats.get(pid, (0, 0))[1]
    todo += [child for child, (parent, _) in stats.items() if parent == pid]
print(total)
PY
}

# wrk_requests prints the number of requests the last wrk run completed.
wrk_requests() { awk '/requests in/ {print $1}' "$bench_work/wrk.last"; }

# cpu_us_per_request TICKS_BEFORE TICKS_AFTER: the router's CPU per request of the last wrk run.
cpu_us_per_request() {
  python3 -c "import os,sys; t=os.sysconf('SC_CLK_TCK'); print(f'{(int(sys.argv[2])-int(sys.argv[1]))/t*1e6/int(sys.argv[3]):.1f}')" "$1" "$2" "$(wrk_requests)"
}
