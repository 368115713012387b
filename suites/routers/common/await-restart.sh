#!/bin/sh
# Restarts a router run by restarter.sh and returns once a new process answers READY_URL
# (60 s at most). Usage: await-restart.sh SUPERVISOR_PID PIDFILE READY_URL
set -u
supervisor=$1 pidfile=$2 ready=$3
old=$(cat "$pidfile")
kill -HUP "$supervisor" || exit 1
deadline=$(( $(date +%s) + 60 ))
until [ "$(cat "$pidfile")" != "$old" ] && curl -sf -o /dev/null "$ready"; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "no new process answered $ready within 60 s"; exit 1; }
  sleep 0.05
done
echo "restarted: pid $old -> $(cat "$pidfile")"
