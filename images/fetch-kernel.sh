#!/usr/bin/env bash
# images/fetch-kernel.sh OUT: the Debian cloud kernel for the VM.
#
# Downloads the metapackage linux-image-cloud-amd64 with `apt-get
# download`, resolves the versioned package it depends on
# (linux-image-6.1.0-NN-cloud-amd64), downloads that, and unpacks from it
# with dpkg-deb (never installing anything on the host) only what the
# guest needs: the bzImage and the virtio modules.  Results:
#   OUT/vmlinuz           the kernel
#   OUT/modules/NAME.ko   the modules
#   OUT/modules.order     their names in load order (dependencies first)
#   OUT/version           the kernel release (6.1.0-NN-cloud-amd64)
# The .deb files stay in OUT/debs: a second run downloads nothing.
set -euo pipefail
out=$1
debs=$out/debs
mkdir -p "$debs"

# Load order: each module after the ones its modinfo depends= names.
modules=(
	kernel/drivers/virtio/virtio_ring
	kernel/drivers/virtio/virtio
	kernel/drivers/virtio/virtio_pci_modern_dev
	kernel/drivers/virtio/virtio_pci_legacy_dev
	kernel/drivers/virtio/virtio_pci
	kernel/drivers/block/virtio_blk
	kernel/net/core/failover
	kernel/drivers/net/net_failover
	kernel/drivers/net/virtio_net
	kernel/drivers/char/hw_random/virtio-rng
	kernel/drivers/char/virtio_console
)

apt_opts=(-q)
[ "$(id -u)" -eq 0 ] && apt_opts+=(-o APT::Sandbox::User=root)

latest() { ls -1 "$debs"/"$1"_*.deb 2>/dev/null | sort -V | tail -n 1; }

fetch() { # package: its .deb in $debs, downloaded when missing
	local deb
	deb=$(latest "$1")
	if [ -z "$deb" ]; then
		echo "images: apt-get download $1" >&2
		if ! (cd "$debs" && apt-get download "${apt_opts[@]}" "$1" >&2); then
			echo "images: cannot download $1; run 'apt-get update' (as root) and retry" >&2
			exit 1
		fi
		deb=$(latest "$1")
	fi
	echo "$deb"
}

meta=$(fetch linux-image-cloud-amd64)
pkg=$(dpkg-deb -f "$meta" Depends | grep -o 'linux-image-[0-9][^ ,]*-cloud-amd64' | head -n 1)
if [ -z "$pkg" ]; then
	echo "images: $meta does not depend on a versioned linux-image-*-cloud-amd64" >&2
	exit 1
fi
deb=$(fetch "$pkg")
kver=${pkg#linux-image-}

unpack=$out/unpack
rm -rf "$unpack" "$out/modules"
mkdir -p "$unpack" "$out/modules"
want=("./boot/vmlinuz-$kver")
for m in "${modules[@]}"; do want+=("./lib/modules/$kver/$m.ko"); done
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$unpack" "${want[@]}"

: >"$out/modules.order.tmp"
for m in "${modules[@]}"; do
	cp "$unpack/lib/modules/$kver/$m.ko" "$out/modules/"
	echo "${m##*/}" >>"$out/modules.order.tmp"
done
cp "$unpack/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
echo "$kver" >"$out/version"
mv "$out/modules.order.tmp" "$out/modules.order"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
rm -rf "$unpack"
