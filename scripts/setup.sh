#!/usr/bin/env bash
# Installs everything coldstore needs on a fresh Debian machine, idempotently:
#   - Debian packages: the dev libraries librdkafka links against (the Confluent
#     client is built from source here, its prebuilt download being unreachable),
#     kcat and the aws CLI (independent clients used by tests), openssl (TLS tests);
#   - Node.js 24 LTS when the machine's node is older (scripts/install-node.sh);
#   - npm packages; @confluentinc/kafka-javascript patched and built from source
#     with CKJS_LINKING=dynamic (scripts/patch-kafka-client.sh);
#   - the native gzip addon on ISA-L and libdeflate (scripts/build-native-gzip.sh);
#     without it coldstore compresses with node:zlib, slower;
#   - the Maven Central jars of the local test stack (Kafka, S3Proxy) into .stack/;
#   - moto's server mode (PyPI), the stack's KMS server, into .stack/moto-venv
#     (scripts/setup-moto.sh);
#   - helm (built with go install: needs Go >= 1.26) and kubernetes-validate (PyPI) into
#     .tools/ for the Helm chart's tests (scripts/setup-helm.sh). Without Go, a warning:
#     those tests are skipped; with --ci, where they must run, setup fails instead.
# Usage: bash scripts/setup.sh          (npm install; keeps an existing node_modules)
#        bash scripts/setup.sh --ci     (npm ci: exactly the lockfile, from scratch)
set -euo pipefail
cd "$(dirname "$0")/.."
ci=false
[ "${1:-}" = "--ci" ] && ci=true

APT_PACKAGES=(build-essential python3 python3-venv pkg-config patch libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev
  libcurl4-openssl-dev libisal-dev libdeflate-dev kcat awscli openssl maven default-jdk-headless chromium gdb)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# A JDK 17+ and Maven that came with the machine count as installed.
if command -v java >/dev/null && command -v mvn >/dev/null; then
  missing=("${missing[@]/default-jdk-headless}"); missing=("${missing[@]/maven}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 LTS from the npm registry when the machine's node is older.
bash scripts/install-node.sh
hash -r

# Install scripts are skipped so the Kafka client is built once, with coldstore's
# fidelity patch applied first (see scripts/patch-kafka-client.sh).
if $ci || [ ! -d node_modules ]; then
  echo "setup: npm ci"
  npm ci --ignore-scripts --no-audit --no-fund
else
  npm install --ignore-scripts --no-audit --no-fund
fi
npm rebuild esbuild >/dev/null
bash scripts/patch-kafka-client.sh
if ! bash scripts/build-native-gzip.sh; then
  $ci && { echo "setup: scripts/build-native-gzip.sh failed (above)" >&2; exit 1; }
  echo "setup: WARNING: the native gzip addon did not build (above); coldstore falls back to node:zlib, slower" >&2
fi
npm run build

echo "setup: fetching the local stack's jars from Maven Central (first run only)"
npx tsx test/stack/cli.ts fetch

echo "setup: moto, the local stack's KMS server, from PyPI (first run only)"
bash scripts/setup-moto.sh

echo "setup: helm and kubernetes-validate for the chart tests (first run only)"
if ! bash scripts/setup-helm.sh; then
  if $ci; then
    echo "setup: scripts/setup-helm.sh failed (above); CI runs the Helm chart tests, so this is fatal" >&2
    exit 1
  fi
  cat >&2 <<'EOF'
setup: WARNING: helm or kubernetes-validate could not be installed (above), so the Helm
  chart tests (test/unit/helm-chart*.test.ts) will be skipped. Everything else works.
  To run them: install Go >= 1.26 (https://go.dev/doc/install) and python3-venv, then
  run bash scripts/setup-helm.sh.
EOF
fi

echo "setup: done. Start the local stack with 'npm run stack -- up', run tests with 'npm test'."
