#!/usr/bin/env bash
# Set-up for scripts/vm-image and the 85-vms suite (idempotent), all Debian packages:
# QEMU (system emulator + qemu-img), mmdebstrap (the image's root file system), e2fsprogs/fdisk
# (mkfs.ext4 -d, sfdisk on a file), genisoimage (KubeVirt's cloud-init and Secret disks),
# dnsmasq-base (DHCP + cluster names on the VMs' network), iproute2, umoci/skopeo (70-images too).
set -euo pipefail
need=()
for pair in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils mmdebstrap:mmdebstrap \
            mkfs.ext4:e2fsprogs sfdisk:fdisk genisoimage:genisoimage dnsmasq:dnsmasq-base \
            ip:iproute2 umoci:umoci skopeo:skopeo; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "85-vms: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
