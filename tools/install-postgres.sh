#!/usr/bin/env bash
# PostgreSQL's server binaries for the incident-store tests (tests/postgres.py starts and
# stops its own server on 127.0.0.1). Idempotent: does nothing when they are present.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
