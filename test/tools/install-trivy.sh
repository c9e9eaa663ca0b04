#!/usr/bin/env bash
# Builds Trivy (the misconfiguration scanner used by test/terraformrules) once into the
# tools cache, keyed by version:
#
#   ${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}/trivy-<version>/trivy
#
# Idempotent: does nothing when that binary exists and reports the expected version.
# The build happens in a throw-away Go module outside the repository, so no fetched
# code ever lands in this tree. Needs only Go and the Go module proxy.
#
# Usage: test/tools/install-trivy.sh            (version pinned below)
#        TRIVY_VERSION=v0.74.0 test/tools/install-trivy.sh
set -euo pipefail

TRIVY_VERSION="${TRIVY_VERSION:-v0.74.0}"
TOOLS_DIR="${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}"
DEST_DIR="${TOOLS_DIR}/trivy-${TRIVY_VERSION}"
DEST="${DEST_DIR}/trivy"

if [[ -x "${DEST}" ]]; then
  installed="$("${DEST}" --version 2>/dev/null || true)"
  if [[ "${installed}" == *"Version: ${TRIVY_VERSION#v}"* ]]; then
    echo "trivy ${TRIVY_VERSION} already installed: ${DEST}"
    exit 0
  fi
  echo "rebuilding ${DEST}: it does not report version ${TRIVY_VERSION#v}" >&2
fi

command -v go >/dev/null 2>&1 || { echo "install-trivy: go is required" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/orders-trivy-build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

mkdir -p "${DEST_DIR}"
start=$(date +%s)
echo "building trivy ${TRIVY_VERSION} into ${DEST} (about 12 minutes cold on 2 cores)"
(
  cd "${work}"
  # A module of its own so that the build uses Trivy's go.mod, never the repository's.
  go mod init orders-platform.local/trivy-build >/dev/null 2>&1
  # Trivy v0.74 uses encoding/json/v2, which Go 1.26 ships behind GOEXPERIMENT=jsonv2.
  # The version is stamped the same way Trivy's release build does it.
  GOEXPERIMENT=jsonv2 GOBIN="${work}/bin" GOFLAGS="-buildvcs=false" \
    go install \
      -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}" \
      "github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION}"
)
# Install atomically: a half-written binary must never look installed.
install -m 0755 "${work}/bin/trivy" "${DEST}.tmp.$$"
mv -f "${DEST}.tmp.$$" "${DEST}"
echo "trivy ${TRIVY_VERSION} installed in $(( $(date +%s) - start ))s: ${DEST}"
"${DEST}" --version
