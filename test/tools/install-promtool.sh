#!/usr/bin/env bash
# Builds promtool (the Prometheus rule checker and rule unit-test runner) and promql-metrics
# (lists the metric names of PromQL expressions with Prometheus' own parser) from the pinned
# Go tool module test/tools/promtool, for the alerting tests (test/alertrules).
#
# The version matches the Prometheus that kube-prometheus-stack (charts/addons.yaml) runs, so
# the rules are parsed and evaluated by the same PromQL engine.
#
# Idempotent: binaries land in a directory keyed by version under
# ${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}; when it is complete nothing is built.
# Cold this takes about 4 minutes on 2 cores.
set -euo pipefail

PROMETHEUS_VERSION=v3.5.0
# Prometheus' Go module numbers v3.X.Y as v0.30X.Y (v3.5.0 -> v0.305.0).
PROMETHEUS_MODULE_VERSION=v0.305.0

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}"
dir="${tools_dir}/promtool-${PROMETHEUS_VERSION}"

# The pinned version must match the tool module; fail loudly if someone bumps one side only.
grep -q "github.com/prometheus/prometheus ${PROMETHEUS_MODULE_VERSION}" "${repo_root}/test/tools/promtool/go.mod" ||
  { echo "install-promtool: test/tools/promtool/go.mod does not pin github.com/prometheus/prometheus ${PROMETHEUS_MODULE_VERSION}" >&2; exit 1; }

if [[ -x "${dir}/promtool" && -x "${dir}/promql-metrics" ]]; then
  echo "install-promtool: ${dir} present"
  exit 0
fi

# promtool may already be there from the upstream image (the Dagger pipeline puts
# it there); promql-metrics is this repository's and always built here.
packages=(./promql-metrics)
[[ -x "${dir}/promtool" ]] || packages+=(github.com/prometheus/prometheus/cmd/promtool)
echo "install-promtool: building ${packages[*]} (${PROMETHEUS_VERSION}) into ${dir} (minutes when cold)"
mkdir -p "${tools_dir}"
tmp="$(mktemp -d "${tools_dir}/.promtool-build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
[[ -x "${dir}/promtool" ]] && cp "${dir}/promtool" "${tmp}/promtool"
(cd "${repo_root}/test/tools/promtool" &&
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}" \
    -o "${tmp}/" "${packages[@]}")
chmod 0755 "${tmp}"
rm -rf "${dir}"
mv "${tmp}" "${dir}"
trap - EXIT
