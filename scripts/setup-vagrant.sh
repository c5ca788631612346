#!/usr/bin/env bash
# What `swarmlab up --provider vagrant` needs beyond scripts/setup.sh, on Debian as root:
# vagrant + vagrant-libvirt, libvirt's daemon and QEMU, qemu-img and e2fsprogs (for
# `swarmlab vagrant box build`), libvirtd + virtlogd started in the background when
# none runs (no systemd needed), and the box swarmlab/bookworm built offline when Vagrant
# has none (after scripts/setup.sh: it needs the swarmlab package). It says what it does,
# and does nothing already done.
set -euo pipefail
say() { echo "setup-vagrant: $*" >&2; }
[ "$(id -u)" = 0 ] || { say "run as root (sudo $0)"; exit 1; }
pkgs=(vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils
      dnsmasq-base e2fsprogs debootstrap ovmf)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  # policy-rc.d: nothing is started by the packages themselves; this script starts what it needs
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  say "starting virtlogd and libvirtd in the background"
  mkdir -p /run/libvirt /var/log/libvirt
  pgrep -x virtlogd >/dev/null || virtlogd -d
  pgrep -x libvirtd >/dev/null || libvirtd -d
  for _ in $(seq 1 60); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.5; done
  virsh -c qemu:///system version >/dev/null 2>&1 || { say "libvirtd does not answer"; exit 1; }
fi
if ! virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
  say "defining libvirt's default storage pool (/var/lib/libvirt/images)"
  mkdir -p /var/lib/libvirt/images
  virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
  virsh -c qemu:///system pool-autostart default >/dev/null
  virsh -c qemu:///system pool-start default >/dev/null
fi
if ! vagrant box list 2>/dev/null | grep -q '^swarmlab/bookworm '; then
  say "no box swarmlab/bookworm: building it offline (swarmlab vagrant box build, about 2 minutes)"
  python3 -m swarmlab vagrant box build
fi
say "ready: swarmlab up --provider vagrant"
