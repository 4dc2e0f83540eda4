# syntax=docker/dockerfile:1
# kai: build with `docker build -t kai .`; add agent engines with
#   docker build --build-arg ENGINES="@anthropic-ai/claude-code@2 @openai/codex@0" -t kai .
ARG NODE_VERSION=24

# --- build: full dependencies, compile TypeScript --------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build

# --- deps: production dependencies only --------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime -----------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# Space-separated npm packages of agent engines to install globally (empty: none).
ARG ENGINES=""
ENV NODE_ENV=production \
    KAI_LOG_FORMAT=json \
    NPM_CONFIG_UPDATE_NOTIFIER=false
# git for worktrees and branches, tini to forward SIGTERM so the worker drains gracefully.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates openssh-client tini \
    && rm -rf /var/lib/apt/lists/*
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN if [ -n "${ENGINES}" ]; then npm install -g --no-audit --no-fund ${ENGINES} && npm cache clean --force; fi
RUN groupadd --system --gid 10001 kai \
    && useradd --system --uid 10001 --gid kai --create-home --home-dir /home/kai kai \
    && mkdir -p /var/lib/kai/worktrees \
    && chown -R kai:kai /var/lib/kai
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY package.json ./
RUN ln -s /app/bin/kai.js /usr/local/bin/kai
USER 10001:10001
ENV HOME=/home/kai
# webhook (HTTP ingress), ops endpoints (/metrics /healthz /readyz), Temporal SDK metrics
EXPOSE 8080 9464 9465
ENTRYPOINT ["/usr/bin/tini", "--", "kai"]
CMD ["worker"]
