#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser test (playwright-core drives
# it; no browser download). CI runs as root on a Debian/Ubuntu machine: apt-get installs it.
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "the browser test needs Chromium at /usr/bin/chromium: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
echo "installing chromium (apt-get) for the browser test..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
[[ -x /usr/bin/chromium ]] || { echo "apt-get installed chromium but /usr/bin/chromium is missing" >&2; exit 1; }
