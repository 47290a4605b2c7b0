#!/usr/bin/env bash
# Start a Docker engine when none answers (machines without systemd, CI), and stop only
# the one this script started.
#   bash toolchain/dockerd.sh start|stop
set -euo pipefail
pidfile=/run/ramp-dockerd.pid
log=/var/log/ramp-dockerd.log
answers() { timeout 10 docker version >/dev/null 2>&1 || timeout 10 /usr/bin/docker version >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if answers; then exit 0; fi
    dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
    if [ ! -x "$dockerd" ]; then
      echo "dockerd is not installed; run: ramp toolchain install" >&2
      exit 1
    fi
    echo "[ramp] starting $dockerd (log: $log)" >&2
    nohup "$dockerd" >"$log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 60); do
      if answers; then exit 0; fi
      sleep 1
    done
    echo "dockerd did not answer within 60 s; see $log" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      rm -f "$pidfile"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
