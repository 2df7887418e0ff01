#!/usr/bin/env bash
# Prepare what the browser tests need: Debian's chromium + chromium-driver (apt-get, as root) when
# /usr/bin/chromium is missing. The pages carry their own scripts (maps/assets), so nothing else is fetched.
# Never runs `playwright install` (it downloads its own browser, which fails offline).
# Exits non-zero when the browser is missing and cannot be installed.
set -euo pipefail

log() { echo "browser-setup: $*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium and chromium-driver with apt-get"
    if [ "$(id -u)" -ne 0 ]; then
        log "not root: install them yourself with 'sudo apt-get install -y chromium chromium-driver'"
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
fi
/usr/bin/chromium --version >&2 2>/dev/null || true
log "chromium ready"
