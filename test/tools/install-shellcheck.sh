#!/usr/bin/env bash
# Makes shellcheck available (the k3s entrypoint test, pipeline/up_test.go, runs
# it): the machine's when it has one, else the Debian package.
set -euo pipefail

if command -v shellcheck >/dev/null 2>&1; then
  echo "install-shellcheck: $(command -v shellcheck) present"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 ||
  { echo "install-shellcheck: no shellcheck and no apt-get: install the shellcheck package" >&2; exit 1; }
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
echo "install-shellcheck: installing the Debian package shellcheck"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
shellcheck --version | head -2
