# syntax=docker/dockerfile:1
# sbworker image: the worker on Node.js 22 LTS (the code stays compatible with Node 20).
#   docker build -t sbworker .
# Runs with a read-only root filesystem; only /tmp (an emptyDir in Kubernetes) must be writable.
# The Kubernetes manifests (k8s/, `npx sbworker k8s render`) run it as user 10001 and probe
# /livez and /readyz on port 8080.

ARG NODE_VERSION=22.12.0

# Build: every dependency, TypeScript compiled to dist/.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; no dependency needs
# its install script (protobufjs' only checks optional CLI peers).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the built output only.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    TMPDIR=/tmp \
    HOME=/tmp \
    SBW_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/patch-rhea.mjs ./scripts/
# --ignore-scripts skips postinstall, so the rhea settlement fix (scripts/patch-rhea.mjs) runs here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/patch-rhea.mjs \
 && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# Numeric, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 10001:10001
EXPOSE 8080
# tini is PID 1: it forwards SIGTERM to node (which drains) and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
# Exactly `npm start` (package.json "start"), without npm in between to swallow signals. With
# SERVICEBUS_NAMESPACE or SERVICEBUS_CONNECTION_STRING set it runs the worker, no emulator.
CMD ["node", "bin/sbworker.js", "start"]
