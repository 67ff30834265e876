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
# checked by test/unit/docker-compose.test.ts.

############################ build ############################
FROM node:20-bookworm-slim AS build

# Toolchain + development headers for librdkafka (TLS, SASL, compression, OIDC/HTTP).
# pkg-config lets librdkafka's configure find the Debian libraries reliably.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential python3 pkg-config patch \
      libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev \
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
FROM node:20-bookworm-slim AS runtime

# Shared libraries the dynamically linked librdkafka needs, and CA certificates
# for TLS connections to Kafka and S3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 libsasl2-2 zlib1g libzstd1 liblz4-1 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

# Application files stay owned by root: the worker cannot modify its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
# Default worker config (docker-compose.yml mounts its own over it).
COPY --from=build /app/config/worker.docker.json /etc/coldstore/worker.json

# Data directory (checkpoint store, spool) writable by the unprivileged user.
RUN mkdir -p /var/lib/coldstore \
 && chown node:node /var/lib/coldstore

# "node" (uid 1000) is the unprivileged user shipped with the official Node image.
USER node

VOLUME /var/lib/coldstore
EXPOSE 8083

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:8083,path:'/health',timeout:4000},(r)=>process.exit(r.statusCode>=200&&r.statusCode<300?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]

ENTRYPOINT ["node", "dist/app/cli/main.cjs"]
CMD ["worker", "--config", "/etc/coldstore/worker.json"]
