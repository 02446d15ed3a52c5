#!/usr/bin/env bash
# tests/integration/images/images.sh: the built images hold what the
# engines need, and `make images` is incremental (nothing left to rebuild
# right after a build).
set -uo pipefail
cd "$(dirname "$0")/../../.."
img=build/images
fail=0
check() { # description, command...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
for f in vmlinuz initramfs.cpio.gz vlab-agent rootfs/bin/busybox; do
	if [ ! -e "$img/$f" ]; then
		echo "SKIP: $img/$f is not built (make images)"
		exit 77
	fi
done

# Incremental: the image files are up to date with their sources.
check "make images has nothing left to rebuild" \
	make -q build/images/vlab-agent build/images/rootfs/etc/vlab/version build/images/vmlinuz \
	build/images/initramfs.cpio.gz

# The agent: static, and it speaks the protocol.
check "the agent is statically linked" bash -c "! readelf -l $img/vlab-agent | grep -q INTERP"
check "the agent answers help" bash -c "printf '1 help\n' | $img/vlab-agent | grep -q '^1 ok verbs='"

# The container rootfs.
r=$img/rootfs
check "rootfs: /bin/vlab-agent" test -x $r/bin/vlab-agent
check "rootfs: busybox is static" bash -c "! readelf -l $r/bin/busybox | grep -q INTERP"
check "rootfs: /bin/sh is busybox" test "$(readlink $r/bin/sh)" = ../bin/busybox
check "rootfs: /usr/bin/env resolves" test "$(readlink -f $r/usr/bin/env)" = "$(readlink -f $r/bin/busybox)"
for d in proc sys dev tmp var/tmp root etc; do
	check "rootfs: /$d" test -d $r/$d
done
check "rootfs: /tmp is sticky" test -k $r/tmp
check "rootfs: /etc/passwd has root" grep -q '^root:' $r/etc/passwd
check "rootfs: no world-writable files" test -z "$(find $r -type f -perm -o+w)"

# The initramfs: /init, the console node, the modules in load order.
list=$(zcat $img/initramfs.cpio.gz | cpio -it --quiet 2>/dev/null)
check "initramfs: /init" grep -qx init <<<"$list"
check "initramfs: dev/console" grep -qx dev/console <<<"$list"
check "initramfs: the agent" grep -qx bin/vlab-agent <<<"$list"
order=$(zcat $img/initramfs.cpio.gz | cpio -i --quiet --to-stdout etc/vlab/modules 2>/dev/null)
check "initramfs: a module load order" test -n "$order"
for m in $order; do
	check "initramfs: module $m" grep -q "^lib/modules/.*/$m.ko$" <<<"$list"
done
check "initramfs: virtio_ring loads before virtio_blk" \
	test "$(grep -n -x virtio_ring <<<"$order" | cut -d: -f1)" -lt "$(grep -n -x virtio_blk <<<"$order" | cut -d: -f1)"
check "kernel: a bzImage" bash -c "head -c 600 $img/vmlinuz | tail -c 90 | grep -q HdrS"
exit $fail
