#!/usr/bin/env bash
# Installs kwok (Kubernetes WithOut Kubelet) v0.8.0, which simulates nodes and pods for the
# deployer tests, together with its "fast" Stage files (node-initialize, pod-ready,
# pod-complete, pod-delete) taken from the kwok module in the Go module cache.
#
# Idempotent: everything lands in ${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}/kwok-v0.8.0/
#   kwok                 the binary
#   stages/node/*.yaml   from the module's kustomize/stage/node/fast
#   stages/pod/*.yaml    from the module's kustomize/stage/pod/fast
# When that directory is complete nothing is done. Cold this takes about 2.5 minutes on 2 cores.
set -euo pipefail

KWOK_VERSION=v0.8.0

tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}"
kwok_dir="${tools_dir}/kwok-${KWOK_VERSION}"

if [[ -x "${kwok_dir}/kwok" && -f "${kwok_dir}/stages/node/node-initialize.yaml" && -f "${kwok_dir}/stages/pod/pod-ready.yaml" ]]; then
  echo "install-kwok: ${kwok_dir} present"
  exit 0
fi

mkdir -p "${tools_dir}"
tmp="$(mktemp -d "${tools_dir}/.kwok-build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

if [[ -x "${kwok_dir}/kwok" ]]; then
  # Put there from the upstream image (the Dagger pipeline does that): keep it.
  cp "${kwok_dir}/kwok" "${tmp}/kwok"
else
  echo "install-kwok: building kwok ${KWOK_VERSION} into ${kwok_dir} (minutes when cold)"
  # GOFLAGS=-mod=mod: build the module as published, whatever the caller's workspace says.
  (cd "${tmp}" && GOFLAGS=-mod=mod GOBIN="${tmp}" go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}")
fi

# The Stage files come from the module as downloaded by the Go toolchain (module proxy or cache).
module_dir="$(cd "${tmp}" && go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" |
  sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",*$/\1/p')"
if [[ -z "${module_dir}" || ! -d "${module_dir}/kustomize/stage" ]]; then
  echo "install-kwok: sigs.k8s.io/kwok@${KWOK_VERSION} has no kustomize/stage in the module cache (${module_dir})" >&2
  exit 1
fi
for kind in node pod; do
  mkdir -p "${tmp}/stages/${kind}"
  cp "${module_dir}/kustomize/stage/${kind}/fast/"*.yaml "${tmp}/stages/${kind}/"
  # kustomization.yaml is not a Stage.
  rm -f "${tmp}/stages/${kind}/kustomization.yaml"
  chmod 0644 "${tmp}/stages/${kind}/"*.yaml
done

chmod 0755 "${tmp}"
trap - EXIT
rm -rf "${kwok_dir}"
mv "${tmp}" "${kwok_dir}"
echo "install-kwok: installed ${kwok_dir}"
