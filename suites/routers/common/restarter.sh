#!/bin/sh
# Runs a router that has no hot restart and restarts it on SIGHUP, as a service manager
# would: the old process is stopped (SIGTERM; it drains as the router does) and a new one
# starts once it has exited. The running process's PID is in PIDFILE, so a restart step can
# wait for a new one. SIGTERM or SIGINT stops it. Usage: restarter.sh PIDFILE COMMAND [ARG…]
set -u
pidfile=$1
shift
pid=""
start() { "$@" & pid=$!; echo "$pid" > "$pidfile"; }
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; start "$@"' HUP
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
start "$@"
# `wait` returns on each signal; go on while the router runs.
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done
