#!/usr/bin/env bash
# Build script (not installed): fetch the JavaScript and CSS the maps and the studio need from the npm
# registry, at pinned versions, and copy them with their licence texts into this folder.
#
#   bash maps/assets/fetch.sh
#
# The copies are committed; run this only to change a version (edit PACKAGES, run, commit the result).
# Nothing from node_modules is kept: `npm pack` downloads each package's tarball into a temporary folder.
# Source-map comments are removed (the .map files are not shipped, and a browser would ask for them).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PACKAGES=(leaflet@1.9.4 jquery@3.7.1 leaflet.sync@0.2.4)
# package  file in the package        copied as
FILES=(
    "leaflet      dist/leaflet.js              leaflet.js"
    "leaflet      dist/leaflet.css             leaflet.css"
    "leaflet      dist/images/layers.png       images/layers.png"
    "leaflet      dist/images/layers-2x.png    images/layers-2x.png"
    "leaflet      dist/images/marker-icon.png  images/marker-icon.png"
    "leaflet      dist/images/marker-icon-2x.png images/marker-icon-2x.png"
    "leaflet      dist/images/marker-shadow.png images/marker-shadow.png"
    "leaflet      LICENSE                      LICENSE-leaflet.txt"
    "jquery       dist/jquery.min.js           jquery.min.js"
    "jquery       LICENSE.txt                  LICENSE-jquery.txt"
    "leaflet.sync L.Map.Sync.js                L.Map.Sync.js"
    "leaflet.sync LICENSE                      LICENSE-leaflet.sync.txt"
)

command -v npm >/dev/null || { echo "fetch.sh: npm is missing: install Node.js and npm" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "${PACKAGES[@]}" >/dev/null)
for spec in "${PACKAGES[@]}"; do
    name="${spec%@*}"
    mkdir -p "$WORK/$name"
    tar xzf "$WORK/$name-${spec##*@}.tgz" -C "$WORK/$name" --strip-components=1
done

mkdir -p "$HERE/images"
{
    echo "Third-party files shipped with lombardy-districts' maps and studio (fetched by fetch.sh from the npm"
    echo "registry; source-map comments removed). Each package's licence is in LICENSE-<package>.txt."
    echo
    for spec in "${PACKAGES[@]}"; do
        name="${spec%@*}"
        licence="$(node -e "console.log(require('$WORK/$name/package.json').license || 'see LICENSE')")"
        echo "$spec  licence: $licence"
    done
    echo
    echo "sha256 of each file:"
} > "$HERE/SOURCES.txt"
for row in "${FILES[@]}"; do
    read -r name from to <<<"$row"
    cp "$WORK/$name/$from" "$HERE/$to"
    case "$to" in
        *.js|*.css) sed -i -E '/^\/[\/*][#@] sourceMappingURL=/d' "$HERE/$to" ;;
    esac
    (cd "$HERE" && sha256sum "$to") >> "$HERE/SOURCES.txt"
done
echo "fetch.sh: copied ${#FILES[@]} files into $HERE" >&2
