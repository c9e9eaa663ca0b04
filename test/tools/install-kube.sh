#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries that the chart and deployer tests run
# (kube-apiserver, kube-controller-manager, kube-scheduler) and kine (etcd API on SQLite)
# from the pinned Go tool modules in test/tools/kube and test/tools/kine.
#
# Idempotent: binaries land in a directory keyed by version under
# ${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}; when it is complete nothing is built.
# Cold this takes about 8 minutes on 2 cores (the Go build cache makes a rebuild fast).
set -euo pipefail

KUBE_VERSION=v1.37.2
KINE_VERSION=v0.17.5

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}"
kube_dir="${tools_dir}/kube-${KUBE_VERSION}"
kine_dir="${tools_dir}/kine-${KINE_VERSION}"

# Pinned versions must match the tool modules; fail loudly if someone bumps one side only.
grep -q "k8s.io/kubernetes ${KUBE_VERSION}" "${repo_root}/test/tools/kube/go.mod" ||
  { echo "install-kube: test/tools/kube/go.mod does not pin k8s.io/kubernetes ${KUBE_VERSION}" >&2; exit 1; }
grep -q "github.com/k3s-io/kine ${KINE_VERSION}" "${repo_root}/test/tools/kine/go.mod" ||
  { echo "install-kube: test/tools/kine/go.mod does not pin github.com/k3s-io/kine ${KINE_VERSION}" >&2; exit 1; }

mkdir -p "${tools_dir}"

build_kube() {
  if [[ -x "${kube_dir}/kube-apiserver" && -x "${kube_dir}/kube-controller-manager" && -x "${kube_dir}/kube-scheduler" ]]; then
    echo "install-kube: ${kube_dir} present"
    return
  fi
  echo "install-kube: building Kubernetes ${KUBE_VERSION} control plane into ${kube_dir} (minutes when cold)"
  local tmp
  tmp="$(mktemp -d "${tools_dir}/.kube-build.XXXXXX")"
  local pkg="k8s.io/component-base/version"
  local ldflags="-s -w -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=37 -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  (cd "${repo_root}/test/tools/kube" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags}" -o "${tmp}/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler)
  chmod 0755 "${tmp}"
  rm -rf "${kube_dir}"
  mv "${tmp}" "${kube_dir}"
}

build_kine() {
  if [[ -x "${kine_dir}/kine" ]]; then
    echo "install-kube: ${kine_dir} present"
    return
  fi
  echo "install-kube: building kine ${KINE_VERSION} into ${kine_dir}"
  local tmp
  tmp="$(mktemp -d "${tools_dir}/.kine-build.XXXXXX")"
  (cd "${repo_root}/test/tools/kine" &&
    go build -trimpath -ldflags "-s -w -X github.com/k3s-io/kine/pkg/version.Version=${KINE_VERSION}" \
      -o "${tmp}/kine" github.com/k3s-io/kine)
  chmod 0755 "${tmp}"
  rm -rf "${kine_dir}"
  mv "${tmp}" "${kine_dir}"
}

build_kine
build_kube
