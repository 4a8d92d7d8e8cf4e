#!/usr/bin/env bash
# install-oci.sh: install the engines the OCI tests drive (podman, containerd with CRI, Docker, runc, CNI, a CRI client's gRPC) when missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Each command the tests call, and the package that provides it.
declare -A want=([podman]=podman [containerd]=containerd [ctr]=containerd [runc]=runc [conmon]=conmon [dockerd]=docker.io [gcc]=gcc)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# CNI plugins give podman's default network and the CRI test's pods their bridge.
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
# test/support/cri.py, the CRI client, runs on Debian's python with its gRPC and protobuf.
/usr/bin/python3 -c 'import grpc, google.protobuf' >/dev/null 2>&1 || missing+=(python3-grpcio python3-protobuf)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-oci: podman, containerd, Docker, runc, CNI and python3-grpcio already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-oci: not root, cannot install ${missing[*]}; the OCI tests will skip" >&2
  exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
# Another apt may hold the lock for a while (unattended upgrades): wait for it, boundedly.
timeout 600 apt-get update -qq -o DPkg::Lock::Timeout=120
timeout 900 apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 "${pkgs[@]}" </dev/null >/dev/null
echo "install-oci: installed ${pkgs[*]}"
