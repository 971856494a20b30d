#!/usr/bin/env bash
# bench/load.py drives the web worker with wrk (an HTTP load generator that scripts requests in Lua);
# install Debian's package when missing. Safe to run again: it does nothing when wrk is there.
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing Debian's wrk for the load benchmark…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q wrk >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
command -v wrk >/dev/null || { echo "wrk could not be installed; run: apt-get install -y wrk" >&2; exit 1; }
