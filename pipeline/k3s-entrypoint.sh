#!/bin/sh
# Entrypoint of the local k3s cluster of `dagger call up` (pipeline/up.go):
#   k3s-entrypoint.sh server [k3s server flags…]
#
# Under Dagger a service's first process is Dagger's init, not k3s, and k3s
# prepares cgroup v2 only when it runs as PID 1 (k3s-io/k3s#4085, handled in
# k3s as init by #4086); without it the kubelet fails with "cannot enter
# cgroupv2 … invalid state" on every cgroup v2 host. So this script does it
# first: it moves the processes of the root cgroup into a child cgroup (a cgroup
# with processes cannot hand controllers to its children) and enables every
# available controller for the children.
#
# It then clears what the previous run left in the cache volume that the new
# cluster must not reuse: the server's state (datastore, TLS files, node
# passwords: the node is new each time) and the kubeconfig the deployer waits
# for. The agent's image store stays, so images are not pulled again. Then it
# starts k3s with the arguments given, imports the service images from
# $ORDERS_K3S_IMAGES/<service>.tar as docker.io/orders/<service>:$ORDERS_IMAGE_TAG
# (the orders chart's local image names) and waits for k3s.
#
# Paths come from the environment so that the parts needing no privileges run
# in the tests (pipeline/up_test.go).
set -eu

cgroup="${ORDERS_CGROUP_ROOT:-/sys/fs/cgroup}"
data="${ORDERS_K3S_DATA:-/var/lib/rancher/k3s}"
kubeconfig="${ORDERS_K3S_KUBECONFIG:-/k3s-config/k3s.yaml}"
images="${ORDERS_K3S_IMAGES:-/images}"
tag="${ORDERS_IMAGE_TAG:?ORDERS_IMAGE_TAG is not set: the images cannot be named}"

if [ -f "${cgroup}/cgroup.controllers" ]; then
  echo "k3s-entrypoint: cgroup v2: moving the root cgroup's processes to init/"
  mkdir -p "${cgroup}/init"
  # One PID per write; a process that ended meanwhile cannot be moved.
  while read -r pid; do
    echo "${pid}"
  done <"${cgroup}/cgroup.procs" >"${cgroup}/init/cgroup.procs" || true
  read -r controllers <"${cgroup}/cgroup.controllers" || true
  enable=""
  for controller in ${controllers}; do
    enable="${enable} +${controller}"
  done
  echo "${enable# }" >"${cgroup}/cgroup.subtree_control"
fi

rm -rf "${data}/server" "${kubeconfig}"

k3s "$@" &
k3s_pid=$!
trap 'kill -TERM "${k3s_pid}" 2>/dev/null || true' TERM INT

until k3s ctr version >/dev/null 2>&1; do
  if ! kill -0 "${k3s_pid}" 2>/dev/null; then
    echo "k3s-entrypoint: k3s exited before containerd answered" >&2
    wait "${k3s_pid}"
    exit 1
  fi
  sleep 1
done

for tarball in "${images}"/*.tar; do
  [ -e "${tarball}" ] || continue
  service="$(basename "${tarball}" .tar)"
  k3s ctr -n k8s.io images import --index-name "docker.io/orders/${service}:${tag}" "${tarball}"
done

wait "${k3s_pid}"
