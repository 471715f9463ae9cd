#!/usr/bin/env bash
# `npm test`: installs the Debian packages the tests drive (real syslog clients and servers), type-checks, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use as real peers: logger (bsdutils), rsyslogd (rsyslog), openssl for TLS certificates,
# systemd-journal-remote for journal files, nats-server for the bus.
need=()
command -v logger >/dev/null 2>&1 || need+=(bsdutils)
command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Debian's Chromium, driven by playwright-core for the dashboard's browser tests (browser downloads fail here).
[ -x /usr/bin/chromium ] || need+=(chromium)
# systemd-journal-remote writes real journal files for the journald tests (journalctl comes with systemd).
[ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
# Compose checks docker-compose.yml with `config`, which needs no Docker engine. Debian 12 packages Compose v1 only
# (the `docker compose` v2 plugin is not in its archive); the test uses v2 when the Docker CLI has it.
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# nats-server (JetStream) is the bus the roles of a multi-process Vigil talk through (src/bus).
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing ${need[*]} (Debian packages used by the tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test: missing ${need[*]}; tests that need them will be skipped (run as root to install)" >&2
  fi
fi

npx tsc -p tsconfig.json --noEmit
npx tsc -p web/tsconfig.json
node scripts/build-web.mjs
mapfile -t files < <(find src test -name '*.test.ts' 2>/dev/null | sort)
if [ $# -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
