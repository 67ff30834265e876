#!/usr/bin/env bash
# Applies coldstore's fidelity patch to @confluentinc/kafka-javascript and builds it
# from source (linking Debian's libraries dynamically). The stock binding turns empty
# keys and values into null when producing, cannot produce null header values,
# reports null header values as empty buffers, and hides the timestamp type: a
# backup tool must keep all of these byte-exact. The patch also adds
# AdminClient.describeConfigs (librdkafka's DescribeConfigs), to read a topic's
# configuration entries with their sources, and fixes a crash in the bundled
# librdkafka: an admin client's ListConsumerGroupOffsets answered NOT_COORDINATOR (a
# fresh cluster, a coordinator moving) dereferenced the consumer-group handle an admin
# client does not have (librdkafka#5040, open upstream); and one in the binding: a
# DescribeConsumerGroups answer carrying an error (coordinator not available on a fresh
# cluster) has no partition assignor, and converting that NULL to a string crashed
# (every cluster-mode worker describes its group as it starts); and an abort in the
# bundled librdkafka: an admin request to a group coordinator that timed out while the
# coordinator was unknown (a broker down longer than the request timeout) released its
# enqueue-once handle twice (eonce->refcnt > 0; librdkafka#5397 reports a sibling).
# And a crash in the binding: a consumer asked whether its assignment was lost after it
# disconnected read its deleted native handle (SIGSEGV in KafkaConsumer::AssignmentLost).
# It also adds a packed consume (consumePacked): a polled batch's keys, values and headers
# in one buffer described by one Float64Array, instead of an object with two copied
# buffers per message (4x less CPU per MB consumed; see docs/performance.md).
# Idempotent: a marker in the build directory records which patch the binary was built with.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=node_modules/@confluentinc/kafka-javascript
PATCH=patches/kafka-javascript-1.10.1-fidelity.patch
MARKER="$PKG/build/Release/.coldstore-patch"
# Keep the prefix in sync with runtime/kafka/client-check.ts. The Node ABI is part of
# the marker: a binary built for another Node major cannot load, so a Node upgrade
# rebuilds.
WANT="coldstore-fidelity-6 $(sha256sum "$PATCH" | cut -c1-16) node-abi-$(node -p process.versions.modules)"

version=$(node -p "require('./$PKG/package.json').version")
if [ "$version" != "1.10.1" ]; then
  echo "patch-kafka-client: @confluentinc/kafka-javascript is $version; $PATCH is for 1.10.1. Update the patch." >&2
  exit 1
fi
if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$WANT" ]; then
  echo "patch-kafka-client: already built with $PATCH"
  exit 0
fi
# Sources patched by an earlier version of the patch: undo that one first.
APPLIED="$PKG/.coldstore-applied.patch"
if [ -f "$APPLIED" ] && ! cmp -s "$APPLIED" "$PATCH"; then
  patch -p1 -R -s -d "$PKG" < "$APPLIED"
  rm -f "$APPLIED"
fi
if patch -p1 -R --dry-run -s -f -d "$PKG" < "$PATCH" >/dev/null 2>&1; then
  echo "patch-kafka-client: sources already patched"
else
  patch -p1 --forward -s -d "$PKG" < "$PATCH"
fi
cp "$PATCH" "$APPLIED"
echo "patch-kafka-client: building the Kafka client from source (about 2 minutes)"
# Build against the installed Node's headers; node-gyp cannot download them here.
# `node` may be a symlink (scripts/install-node.sh links /usr/local/bin/node).
node_home="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_home/include/node/node.h" ]; then
  export npm_config_nodedir="$node_home"
fi
CKJS_LINKING=dynamic npm_config_build_from_source=@confluentinc/kafka-javascript npm rebuild @confluentinc/kafka-javascript >/dev/null
echo "$WANT" > "$MARKER"
echo "patch-kafka-client: done"
