# Vigil in a container: `docker build -t vigil .`, then `docker run vigil start …` (docker-compose.yml runs each role).
# The build stage compiles (npm ci runs `prepare`: TypeScript and the dashboard bundle) and drops the development
# dependencies; the image keeps only what `vigil` runs from, and runs it as an unprivileged user.
FROM node:20-bookworm-slim AS build
# re2 (linear-time regular expressions for rules) builds from source with node-gyp.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VIGIL_DATA_DIR=/var/lib/vigil
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/rules ./rules
RUN useradd --system --uid 10001 --home-dir /var/lib/vigil --shell /usr/sbin/nologin vigil \
 && mkdir -p /var/lib/vigil \
 && chown vigil:vigil /var/lib/vigil
USER vigil
VOLUME /var/lib/vigil
# API and dashboard; syslog over UDP and TCP.
EXPOSE 3000 5514/udp 5514/tcp
ENTRYPOINT ["node", "/app/bin/vigil.js"]
CMD ["start", "--host", "0.0.0.0", "--no-collect"]
