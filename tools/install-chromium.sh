#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (tests/test_dashboard_browser.py), which
# drives /usr/bin/chromium with Playwright: Playwright's own browser download is never used,
# as the test machines reach package registries only. Idempotent and quiet: returns at once
# when Chromium is there; otherwise installs it and prints apt's output only if that fails.
set -euo pipefail

chromium=/usr/bin/chromium
if [ -x "$chromium" ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: $chromium is missing; installing it needs root or sudo" >&2
    exit 1
  fi
  as_root=(sudo --non-interactive)
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
apt_get() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q "$@"
}
if ! { apt_get update && apt_get install -y --no-install-recommends chromium; } >"$log" 2>&1 ||
  [ ! -x "$chromium" ]; then
  cat "$log" >&2
  echo "install-chromium: could not install Debian's chromium at $chromium" >&2
  exit 1
fi
