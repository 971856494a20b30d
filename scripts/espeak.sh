#!/usr/bin/env bash
# The speech tests synthesise their audio with Debian's espeak-ng (tests/test_speech.py); install it when missing.
set -euo pipefail
if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "installing Debian's espeak-ng for the speech tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q espeak-ng >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q espeak-ng >/dev/null; }
fi
command -v espeak-ng >/dev/null || { echo "espeak-ng could not be installed; run: apt-get install -y espeak-ng" >&2; exit 1; }
