#!/usr/bin/env bash
# Benchmark (issue 15, closing issue 4's throughput question): short requests against nginx
# (a static 200 on loopback), the same connection count for every tool, in one run:
# `cutover load` beside libcurl's two floors (bench/curl-floor.c: `floor` on
# curl_multi_perform, `socket-floor` on curl_multi_socket_action and epoll as cutover is),
# hey, ab, h2load (HTTP/1.1) and wrk, at one thread and at all threads, alternating over
# ROUNDS rounds. Prints the
# medians, the ratios, and cutover's CPU per request at each thread count (the target
# shares these cores, so CPU per request tells how threads scale, not req/s).
# Goals: >= 0.95x the libcurl floor at one thread (the event-driven one: the interface
# cutover needs for thousands of slow streams); ahead of hey; CPU per request at all
# threads within 1.1x of one thread's.
# `cutover-chat` is cutover sending chat completions (a body of its own per request, naming
# the request, digested as it goes out and as the answer comes back), which nginx answers
# with the same 200. BASELINE=<git revision> adds that revision's cutover (`before`,
# `before-chat`), built once into .build-baseline, for CPU per request before and after.
# Usage: bench/loadgen-peers.sh [CONNECTIONS]   (ROUNDS=3 DURATION=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
connections=${1:-64}
rounds=${ROUNDS:-3}
seconds=${DURATION:-10}
cores=$(nproc)

# The peers come from Debian's packages (hey, apache2-utils, nghttp2-client).
missing=()
for tool in hey:hey ab:apache2-utils h2load:nghttp2-client wrk:wrk; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "missing: ${missing[*]} (apt-get install -y ${missing[*]})" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

swift build -c release --product cutover >/dev/null
BIN=$(swift build -c release --show-bin-path)
BEFORE=""
if [ -n "${BASELINE:-}" ]; then
  git worktree add --detach "$bench_work/baseline" "$BASELINE" >/dev/null 2>&1
  swift build -c release --product cutover --package-path "$bench_work/baseline" --scratch-path "$PWD/.build-baseline" >/dev/null
  BEFORE="$PWD/.build-baseline/release/cutover"
  git worktree remove --force "$bench_work/baseline"
fi
"${CC:-cc}" -O2 -o "$bench_work/curl-floor" bench/curl-floor.c -lcurl
ulimit -n 65536 2>/dev/null || true

port=$(free_port)
start_nginx "server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 'ok'; }
  }" "http://127.0.0.1:$port/"
URL="http://127.0.0.1:$port/v1/models"
BASE="http://127.0.0.1:$port"

# Each contender prints "REQ_PER_S CPU_SECONDS" (CPU of the tool's own process).
timed() { /usr/bin/time -f '%U %S' -o "$bench_work/cpu" "$@" >"$bench_work/out" 2>&1 || true; }
cpu() { read -r u s <"$bench_work/cpu"; python3 -c "print($u + $s)"; }
run() {
  local name=$1 threads=$2
  case $name in
    cutover|before|cutover-chat|before-chat)
      local binary="$BIN/cutover" mix=models:1
      case $name in before*) binary=$BEFORE ;; esac
      case $name in *-chat) mix=chat:1 ;; esac
      timed "$binary" load --url "$BASE" --connections "$connections" --duration "${seconds}s" --mix "$mix" --threads "$threads" --json
      python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput_rps"])' "$bench_work/out" ;;
    floor)
      timed "$bench_work/curl-floor" "$URL" "$connections" "$seconds"
      head -1 "$bench_work/out" ;;
    socket-floor)
      timed "$bench_work/curl-floor" --socket "$URL" "$connections" "$seconds"
      head -1 "$bench_work/out" ;;
    wrk)
      timed wrk -t"$threads" -c"$connections" -d"${seconds}s" "$URL"
      awk '/Requests\/sec/ {print $2}' "$bench_work/out" ;;
    hey)
      GOMAXPROCS=$threads timed hey -c "$connections" -z "${seconds}s" "$URL"
      awk '/Requests\/sec/ {print $2}' "$bench_work/out" ;;
    ab)
      timed ab -k -q -c "$connections" -t "$seconds" -n 100000000 "$URL"
      awk '/Requests per second/ {print $4}' "$bench_work/out" ;;
    h2load)
      timed h2load --h1 -c "$connections" -t "$threads" -D "$seconds" "$URL"
      awk '/finished in/ {gsub(",", "", $4); print $4}' "$bench_work/out" ;;
  esac
}

results="$bench_work/results"
for threads in 1 "$cores"; do
  if [ "$threads" = 1 ]; then contenders="cutover cutover-chat ${BEFORE:+before before-chat }socket-floor floor hey ab h2load wrk"; else contenders="cutover hey h2load wrk"; fi
  echo "== $connections connections, ${seconds}s each, $threads thread(s), $rounds alternating rounds, against nginx (static 200)"
  for round in $(seq 1 "$rounds"); do
    line="  round $round:"
    for name in $contenders; do
      rps=$(run "$name" "$threads")
      used=$(cpu)
      echo "$threads $name $rps $used" >>"$results"
      line+=$(printf ' %s %.0f' "$name" "$rps")
    done
    echo "$line"
  done
done

python3 - "$results" "$cores" "$seconds" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
cores, seconds = sys.argv[2], float(sys.argv[3])
def med(threads, name, column):
    values = [float(r[column]) for r in rows if r[0] == threads and r[1] == name]
    return statistics.median(values) if values else None
for threads in ["1", cores]:
    names = [n for n in ["cutover", "cutover-chat", "before", "before-chat", "socket-floor", "floor", "hey", "ab", "h2load", "wrk"] if med(threads, n, 2)]
    print(f"\n{threads} thread(s):   " + "  ".join(f"{n} {med(threads, n, 2):.0f}" for n in names) + "  (req/s, medians)")
    ours = med(threads, "cutover", 2)
    print("  cutover / " + ", ".join(f"{n} {ours / med(threads, n, 2):.2f}x" for n in names if n != "cutover"))
floor_cpu = med("1", "floor", 3) / (med("1", "floor", 2) * seconds) * 1e6
socket_cpu = med("1", "socket-floor", 3) / (med("1", "socket-floor", 2) * seconds) * 1e6
one = med("1", "cutover", 3) / (med("1", "cutover", 2) * seconds) * 1e6
all_ = med(cores, "cutover", 3) / (med(cores, "cutover", 2) * seconds) * 1e6
print(f"\ncutover CPU per request: {one:.2f} us at 1 thread, {all_:.2f} us at {cores} threads ({all_ / one:.2f}x); the floors' {socket_cpu:.2f} us (socket) and {floor_cpu:.2f} us (perform)")
def per_request(name):
    return med("1", name, 3) / (med("1", name, 2) * seconds) * 1e6 if med("1", name, 2) else None
chat = per_request("cutover-chat")
print(f"cutover CPU per request at 1 thread: {one:.2f} us (models), {chat:.2f} us (chat)")
if per_request("before"):
    before, before_chat = per_request("before"), per_request("before-chat")
    print(f"before (BASELINE): {before:.2f} us (models), {before_chat:.2f} us (chat); after / before: {one / before:.2f}x (models), {chat / before_chat:.2f}x (chat)")
print("goals: >= 0.95x the (socket) libcurl floor at 1 thread; ahead of hey; CPU per request at all threads within 1.1x of 1 thread's")
PY
