#!/usr/bin/env bash
# Builds coldstore's gzip addon (native/gzip: ISA-L's igzip and libdeflate behind
# N-API) with node-gyp against the installed Node's headers; node-gyp cannot
# download them here. Needs libisal-dev and libdeflate-dev (scripts/setup.sh installs
# them). Without the addon coldstore still works: it falls back to node:zlib and says
# so in one warning log line (docs/performance.md, "Compression").
# Idempotent: skipped when the built addon is newer than its sources and was built
# for this Node's ABI (a marker next to it records which).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=native/gzip
ADDON="$DIR/build/Release/coldstore_gzip.node"
MARKER="$DIR/build/Release/.coldstore-node-abi"
# Keep the path in sync with runtime/compression/native-gzip.ts.
WANT="node-abi-$(node -p process.versions.modules) $(node -p process.arch)"

up_to_date() {
  [ -f "$ADDON" ] && [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ] || return 1
  for source in "$DIR/binding.gyp" "$DIR/coldstore_gzip.c"; do
    [ "$ADDON" -nt "$source" ] || return 1
  done
}

if up_to_date; then
  echo "build-native-gzip: $ADDON is up to date"
  exit 0
fi

# node-gyp ships with npm; use that one rather than adding a dependency.
npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
NODE_GYP="$npm_root/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$NODE_GYP" ]; then
  echo "build-native-gzip: node-gyp not found at $NODE_GYP (it comes with npm)" >&2
  exit 1
fi
# `node` may be a symlink (scripts/install-node.sh links /usr/local/bin/node).
node_home="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_home/include/node/node.h" ]; then
  export npm_config_nodedir="$node_home"
fi
echo "build-native-gzip: building $ADDON"
(cd "$DIR" && node "$NODE_GYP" rebuild --release --loglevel=warn >/dev/null)
echo "$WANT" >"$MARKER"
echo "build-native-gzip: done"
