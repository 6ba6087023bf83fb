# Pincer in a container. Build: docker build -t pincer .
# Run:   docker run -d --name pincer -p 127.0.0.1:18789:18789 -e PINCER_TOKEN="$(openssl rand -base64 32)" -v pincer-data:/data pincer
# Check: curl -s http://127.0.0.1:18789/ready   (see docs/running-as-a-service.md)

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
# The bundle and the web chat are all the image needs; esbuild builds both without the type-check.
RUN node scripts/bundle-cli.mjs && node scripts/build-web.mjs

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PINCER_STATE_DIR=/data \
    PINCER_HOST=0.0.0.0 \
    PINCER_PORT=18789
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/dist/pincer.mjs ./dist/pincer.mjs
COPY --from=build /src/dist/vendor ./dist/vendor
COPY --from=build /src/dist/web ./dist/web
RUN mkdir -p /data && chown node:node /data && ln -s /app/dist/pincer.mjs /usr/local/bin/pincer
USER node
VOLUME ["/data"]
EXPOSE 18789
# Listening on 0.0.0.0 needs PINCER_TOKEN (or auth.token in /data/config.json); without one Pincer exits 78.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:18789/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "/app/dist/pincer.mjs", "gateway"]
