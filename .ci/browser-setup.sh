#!/usr/bin/env bash
# Prepare what the browser tests of maps/ need, then print the assets folder on stdout.
#
#   export LOMBARDY_DISTRICTS_ASSETS="$(.ci/browser-setup.sh)"
#
# 1. Debian's chromium + chromium-driver (apt-get, as root) when /usr/bin/chromium is missing.
# 2. The JavaScript/CSS files Folium pages load from CDNs, from the npm registry, into
#    $LOMBARDY_DISTRICTS_ASSETS (default ~/.cache/lombardy-districts/browser-assets). The tests
#    answer the pages' CDN requests from these copies; nothing is committed.
# Never runs `playwright install` (it downloads its own browser, which fails offline).
# Everything but the final path goes to stderr. Exits non-zero when anything is missing.
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

ASSETS="${LOMBARDY_DISTRICTS_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/lombardy-districts/browser-assets}"
mkdir -p "$ASSETS"
# Versions: those Folium 0.20 links to (leaflet 1.9.3, jquery 3.7.1, bootstrap 5.2.2) and Leaflet.Sync for DualMap.
PACKAGES=(leaflet@1.9.3 jquery@3.7.1 bootstrap@5.2.2 leaflet.sync@0.2.4)
NEEDED=(
    node_modules/leaflet/dist/leaflet.js
    node_modules/leaflet/dist/leaflet.css
    node_modules/jquery/dist/jquery.min.js
    node_modules/bootstrap/dist/js/bootstrap.bundle.min.js
    node_modules/bootstrap/dist/css/bootstrap.min.css
    node_modules/leaflet.sync/L.Map.Sync.js
)
missing=0
for f in "${NEEDED[@]}"; do [ -f "$ASSETS/$f" ] || missing=1; done
if [ "$missing" = 1 ]; then
    command -v npm >/dev/null || { log "npm is missing: install Node.js and npm"; exit 1; }
    log "npm install ${PACKAGES[*]} into $ASSETS"
    [ -f "$ASSETS/package.json" ] || echo '{"name": "lombardy-districts-browser-assets", "private": true}' > "$ASSETS/package.json"
    npm install --prefix "$ASSETS" --no-audit --no-fund --loglevel=error "${PACKAGES[@]}" >&2
fi
for f in "${NEEDED[@]}"; do
    [ -f "$ASSETS/$f" ] || { log "missing $ASSETS/$f after npm install"; exit 1; }
done
log "assets ready in $ASSETS"
echo "$ASSETS"
