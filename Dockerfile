# syntax=docker/dockerfile:1
#
# coldstore worker image.
#
#   docker build -t coldstore .
#   docker run -p 8083:8083 -v coldstore-data:/var/lib/coldstore coldstore
#
# Two stages: "build" compiles the Confluent Kafka client (librdkafka built from
# source, linked dynamically against Debian's libraries) and the TypeScript
# sources; "runtime" holds only the production node_modules, dist/ and the shared
# libraries librdkafka needs at run time.
#
# This file cannot be built in the project's CI (no Docker engine there); it is
# checked by test/unit/docker-compose.test.ts, and its health check script by
# test/unit/docker-healthcheck.test.ts.
#
# Base: the exact Node.js the project runs on (scripts/install-node.sh's NODE_VERSION,
# package.json's engines) on Debian 13 "trixie", the current Debian stable. Its
# package names differ from bookworm's where the 64-bit time_t transition renamed
# them (libssl3t64, libcurl4t64).

############################ build ############################
FROM node:24.22.3-trixie-slim AS build

# Toolchain + development headers for librdkafka (TLS, SASL, compression, OIDC/HTTP)
# and for coldstore's gzip addon (ISA-L, libdeflate).
# pkg-config lets librdkafka's configure find the Debian libraries reliably.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential python3 pkg-config patch \
      libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev \
      libisal-dev libdeflate-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# CKJS_LINKING=dynamic: librdkafka is built from the sources shipped in the npm
# package and linked against the Debian libraries above (not a bundled OpenSSL).
# npm_config_build_from_source: never use the prebuilt binary from GitHub, so the
# image is the same whether or not that download is reachable.
ENV CKJS_LINKING=dynamic \
    npm_config_build_from_source=@confluentinc/kafka-javascript

# Dependencies first, so this slow layer (librdkafka takes minutes to compile) is
# cached until package.json / package-lock.json or the client patch change.
# --ignore-scripts: the Kafka client must be built once, after coldstore's fidelity
# patch is applied (scripts/patch-kafka-client.sh); "prepare" (tsc) needs sources.
COPY package.json package-lock.json ./
COPY patches/ patches/
COPY scripts/patch-kafka-client.sh scripts/
RUN npm ci --ignore-scripts \
 && npm rebuild esbuild \
 && bash scripts/patch-kafka-client.sh

# The gzip addon (native/gzip, N-API: one build serves every Node version).
COPY native/gzip/binding.gyp native/gzip/coldstore_gzip.c native/gzip/
COPY scripts/build-native-gzip.sh scripts/
RUN bash scripts/build-native-gzip.sh

COPY tsconfig.json ./
COPY runtime/ runtime/
COPY connectors/ connectors/
COPY app/ app/
COPY config/ config/
RUN npm run build \
 && npm prune --omit=dev \
 && cd node_modules/@confluentinc/kafka-javascript \
 && rm -rf deps/librdkafka build/Release/obj.target build/Release/.deps \
           build/deps/include build/deps/pkgconfig build/deps/librdkafka build/deps/*.a
# (the last step drops librdkafka's source tree, object files and static archives,
# about 260 MB; the addon only needs build/Release/*.node and build/deps/*.so*)

############################ runtime ############################
FROM node:24.22.3-trixie-slim AS runtime

# Shared libraries the dynamically linked librdkafka and the gzip addon need, and CA
# certificates for TLS connections to Kafka and S3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3t64 libsasl2-2 zlib1g libzstd1 liblz4-1 libcurl4t64 libisal2 libdeflate0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

# Application files stay owned by root: the worker cannot modify its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# dist/runtime/compression looks for it at ../../../native/gzip/build/Release.
COPY --from=build /app/native/gzip/build/Release/coldstore_gzip.node ./native/gzip/build/Release/
COPY --from=build /app/config ./config
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
# Default worker config (docker-compose.yml and the Helm chart mount their own over it).
COPY --from=build /app/config/worker.docker.json /etc/coldstore/worker.json

# Every path the worker writes is under /var/lib/coldstore, owned by the unprivileged
# user: data.dir in the worker config, and (as the working directory) whatever a
# connector setting leaves relative, such as local.root's default ".data/objects".
# /app is root-owned, so a relative path there could not be written.
RUN mkdir -p /var/lib/coldstore \
 && chown node:node /var/lib/coldstore

# "node" (uid 1000, gid 1000) is the unprivileged user shipped with the official Node
# image; the Helm chart's securityContext runs as the same ids.
USER node
WORKDIR /var/lib/coldstore

VOLUME /var/lib/coldstore
EXPOSE 8083

# The probe reads the worker's own config (rest.host, rest.port, rest.tls.*): it asks
# /health over HTTPS with the configured CA when TLS is on, on whatever port is set.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]

ENTRYPOINT ["node", "/app/dist/app/cli/main.cjs"]
CMD ["worker", "--config", "/etc/coldstore/worker.json"]
