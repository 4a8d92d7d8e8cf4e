#!/usr/bin/env bash
# install-oci.sh: install podman, containerd and runc from Debian when missing (the OCI tests need them).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Each command the tests call, and the package that provides it.
declare -A want=([podman]=podman [containerd]=containerd [ctr]=containerd [runc]=runc [conmon]=conmon)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# CNI plugins give podman's default network its bridge; podman runs without them only with --network=none.
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-oci: podman, containerd and runc already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-oci: not root, cannot install ${missing[*]}; the OCI tests will skip" >&2
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
timeout 600 apt-get update -qq
timeout 900 apt-get install -y -qq --no-install-recommends "${pkgs[@]}" </dev/null >/dev/null
echo "install-oci: installed ${pkgs[*]}"
