#!/usr/bin/env bash
# Installs moto's server mode (PyPI) into the git-ignored .stack/moto-venv: the local
# stack runs it as its KMS server (test/stack/kms.ts), so envelope-encryption tests use
# the real AWS SDK KMS client against a real KMS-compatible endpoint.
# Idempotent: a venv that already has this moto version is left alone.
set -euo pipefail
MOTO_VERSION=5.2.6

root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.stack/moto-venv

# (the output is captured before comparing: with pipefail, `grep -q` closing a pipe early fails it)
moto_ok() {
  [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import importlib.metadata as m, flask, flask_cors; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]
}
if moto_ok; then
  echo "setup-moto: moto $MOTO_VERSION present in $venv"
  exit 0
fi
echo "setup-moto: installing moto[server] $MOTO_VERSION into $venv"
mkdir -p "$root/.stack"
python3 -m venv "$venv" || { echo "setup-moto: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
moto_ok || { echo "setup-moto: moto $MOTO_VERSION did not install into $venv" >&2; exit 1; }
echo "setup-moto: moto $MOTO_VERSION installed"
