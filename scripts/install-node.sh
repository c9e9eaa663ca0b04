#!/usr/bin/env bash
# Makes Node.js 24 LTS available and prints the directory that holds its `node`.
#
# When the machine's node is already 24, that one is used. Otherwise Node is
# installed once from the npm package `node` (which ships the official binary)
# into the tools cache, keyed by version:
#
#   ${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}/node-<version>/bin/node
#
# Usage: PATH="$(scripts/install-node.sh):$PATH"
set -euo pipefail

NODE_VERSION="${NODE_VERSION:-24.21.0}"
major="${NODE_VERSION%%.*}"
tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/orders-platform/tools}"
dest="${tools_dir}/node-${NODE_VERSION}"

if command -v node >/dev/null 2>&1 && [[ "$(node -p 'process.versions.node.split(".")[0]')" == "${major}" ]]; then
  dirname "$(command -v node)"
  exit 0
fi
if [[ -x "${dest}/bin/node" ]] && [[ "$("${dest}/bin/node" --version)" == "v${NODE_VERSION}" ]]; then
  echo "${dest}/bin"
  exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "install-node: npm is required to install Node ${NODE_VERSION}" >&2; exit 1; }
echo "install-node: installing Node ${NODE_VERSION} into ${dest}" >&2
work="$(mktemp -d "${tools_dir}/.node-${NODE_VERSION}.XXXXXX" 2>/dev/null || { mkdir -p "${tools_dir}"; mktemp -d "${tools_dir}/.node-${NODE_VERSION}.XXXXXX"; })"
trap 'rm -rf "${work}"' EXIT
npm install --prefix "${work}" --no-save --no-audit --no-fund --loglevel=error "node@${NODE_VERSION}" >&2
mkdir -p "${work}/bin"
ln -s ../node_modules/node/bin/node "${work}/bin/node"
got="$("${work}/bin/node" --version)"
[[ "${got}" == "v${NODE_VERSION}" ]] || { echo "install-node: expected v${NODE_VERSION}, the package gave ${got}" >&2; exit 1; }
# Install atomically: a half-installed Node must never look installed.
rm -rf "${dest}"
mv "${work}" "${dest}"
trap - EXIT
echo "${dest}/bin"
