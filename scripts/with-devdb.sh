#!/usr/bin/env bash
# Runs a command with MONGODB_URL pointing at a fresh development database
# (bin/devdb: FerretDB on SQLite in a temporary directory), then stops it.
#
# Usage: scripts/with-devdb.sh npm test
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
devdb="${repo_root}/bin/devdb"
[[ -x "${devdb}" ]] || { echo "with-devdb: ${devdb} is missing: run make tools" >&2; exit 1; }

data="$(mktemp -d "${TMPDIR:-/tmp}/orders-devdb.XXXXXX")"
"${devdb}" -addr 127.0.0.1:0 -data "${data}/db" -uri-file "${data}/uri" >"${data}/stdout" 2>"${data}/log" &
pid=$!
cleanup() {
  kill "${pid}" 2>/dev/null && wait "${pid}" 2>/dev/null || true
  rm -rf "${data}"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
  [[ -s "${data}/uri" ]] && break
  kill -0 "${pid}" 2>/dev/null || { echo "with-devdb: devdb exited:" >&2; cat "${data}/log" >&2; exit 1; }
  sleep 0.1
done
[[ -s "${data}/uri" ]] || { echo "with-devdb: devdb did not start within 30s" >&2; exit 1; }

MONGODB_URL="$(cat "${data}/uri")"
export MONGODB_URL
echo "with-devdb: MONGODB_URL=${MONGODB_URL}" >&2
set +e
"$@"
status=$?
set -e
exit "${status}"
