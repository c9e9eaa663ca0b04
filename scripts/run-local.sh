#!/usr/bin/env bash
# Runs the system locally without Docker: devdb (data kept in .devdb/),
# service1 on :3000 and service2 on :3001. Ctrl-C stops everything.
#
# Ports and the data directory can be changed:
#   DEVDB_ADDR=127.0.0.1:27017 SERVICE1_PORT=3000 SERVICE2_PORT=3001 DEVDB_DATA=.devdb
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
devdb_addr="${DEVDB_ADDR:-127.0.0.1:27017}"
data="${DEVDB_DATA:-.devdb}"
service1_port="${SERVICE1_PORT:-3000}"
service2_port="${SERVICE2_PORT:-3001}"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "${node_major}" == 24 ]] || { echo "run-local: Node 24 is required, found $(node --version) (make run sets it up)" >&2; exit 1; }

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping…" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

mkdir -p "${data}"
rm -f "${data}/uri"
bin/devdb -addr "${devdb_addr}" -data "${data}/db" -uri-file "${data}/uri" >/dev/null &
pids+=($!)
for _ in $(seq 1 300); do
  [[ -s "${data}/uri" ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "run-local: devdb did not start (is ${devdb_addr} in use?)" >&2; exit 1; }
  sleep 0.1
done
MONGODB_URL="$(cat "${data}/uri")"
export MONGODB_URL

(cd services/service1 && PORT="${service1_port}" exec node index.js) &
pids+=($!)
(cd services/service2 && PORT="${service2_port}" exec node index.js) &
pids+=($!)

cat >&2 <<MSG

devdb     ${MONGODB_URL} (data in ${data}/db)
service1  http://127.0.0.1:${service1_port}
service2  http://127.0.0.1:${service2_port}

  curl -XPOST   http://127.0.0.1:${service1_port}/orders -d '{}'
  curl -XDELETE http://127.0.0.1:${service1_port}/orders/4
  curl -XGET    http://127.0.0.1:${service2_port}/orders

Logs are JSON lines below. Ctrl-C stops everything.

MSG
# Stop everything as soon as any one of them exits.
wait -n "${pids[@]}"
