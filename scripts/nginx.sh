#!/usr/bin/env bash
# tests/test_deploy.py checks deploy/nginx/civicdesk.conf with `nginx -t` against a self-signed certificate
# made by openssl; install Debian's nginx and openssl when missing. Only the binaries are used: the test
# runs `nginx -t` on a temporary configuration and never starts a server.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian's ${missing[*]} for the deploy kit test…"
  export DEBIAN_FRONTEND=noninteractive
  # a test tool must not start a web server on port 80: Debian's policy-rc.d keeps the package from starting it
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx could not be installed; run: apt-get install -y nginx" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl could not be installed; run: apt-get install -y openssl" >&2; exit 1; }
