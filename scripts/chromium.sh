#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (no browser download by Playwright); install it when missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium fonts-noto-core >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-core >/dev/null; }
fi
command -v chromium >/dev/null || { echo "chromium could not be installed; run: apt-get install -y chromium" >&2; exit 1; }
