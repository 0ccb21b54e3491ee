#!/usr/bin/env bash
# Copy the pinned front-end libraries from node_modules into the ignored static vendor folder.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=grassroots/static/vendor
rm -rf "$dest"
mkdir -p "$dest/leaflet" "$dest/echarts" "$dest/htmx"
cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images "$dest/leaflet/"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
echo "front-end assets copied to $dest"
