#!/usr/bin/env bash
# Demo: a blue and a green mock upstream on loopback, and a few faults shown live with curl.
# Every process started here is stopped on exit, also on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

start() {  # start NAME SEED: runs in this shell (not a subshell) so its PID reaches cleanup
  "$bin/mock-upstream" --name "$1" --seed "$2" --log-level error >"$work/$1.out" &
  pids+=($!)
  for _ in $(seq 1 200); do
    [ -s "$work/$1.out" ] && return 0
    sleep 0.05
  done
  echo "demo: $1 did not announce itself" >&2
  return 1
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" || true; echo; }

step "Start two mock relays, one per environment (ready lines below)"
start blue 1; blue=$(head -n1 "$work/blue.out"); echo "$blue"
start green 2; green=$(head -n1 "$work/green.out"); echo "$green"
B=$(field "$blue" url); G=$(field "$green" url); GA=$(field "$green" admin)
chat='{"model":"gpt-4.1","messages":[{"role":"user","content":"hello"}],"max_tokens":5}'

step "Both serve the OpenAI relay API; identity headers say who answered"
show curl -s -D - -o /dev/null "$B/v1/models"
show curl -s "$G/v1/chat/completions" -H 'Content-Type: application/json' -d "$chat"

step "A streamed completion from green, paced at 10 tokens/s"
show curl -s -X POST "$GA/_mock/faults" -d '{"id":"pace","kind":"stream-pace","ttft_ms":300,"tokens_per_second":10}'
show curl -sN "$G/v1/chat/completions" -d '{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true}'

step "Green answers 429 with Retry-After and rate-limit headers"
show curl -s -X PUT "$GA/_mock/faults" -d '{"faults":[{"id":"limited","kind":"status","status":429,"retry_after":2}]}'
show curl -s -i "$G/v1/chat/completions" -d "$chat"

step "Green goes down: the listener closes (connection refused)"
show curl -s -X PUT "$GA/_mock/faults" -d '{"faults":[{"id":"down","kind":"outage","mode":"refuse"}]}'
show curl -sS "$G/v1/models"

step "Green heals on the same port; blue was never affected"
show curl -s -X DELETE "$GA/_mock/faults"
show curl -s -o /dev/null -w '%{http_code} from green\n' "$G/v1/models"
show curl -s -o /dev/null -w '%{http_code} from blue\n' "$B/v1/models"

step "Green's ledger: every request it received, with the fault applied"
curl -s "$GA/_mock/ledger" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    print("  #{seq:<3} {method:<5} {path:<22} status={status} fault={fault} outcome={outcome}".format(**e))'
step "Stats"
show curl -s "$GA/_mock/stats"
