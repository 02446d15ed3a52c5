#!/usr/bin/env bash
# images/mkrootfs.sh DEST AGENT [BUSYBOX]: the container's root filesystem.
#
# busybox-static (one binary, its applets as relative symbolic links), the
# vlab probe agent at /bin/vlab-agent, mount points for /proc /sys /dev,
# scratch folders and a minimal /etc (images/files/etc).  Built beside DEST
# and renamed into place, so DEST is always whole: it becomes the read-only
# lower layer of every container's overlay.
set -euo pipefail
dest=$(realpath -m "$1") agent=$(realpath "$2") busybox=$(realpath "${3:-/bin/busybox}")
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$busybox" ]; then
	echo "images: $busybox is missing (install busybox-static: make deps)" >&2
	exit 1
fi
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	echo "images: $busybox is dynamically linked; the guests need busybox-static" >&2
	exit 1
fi

tmp=$dest.new
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin etc/vlab proc sys dev tmp var/tmp root run mnt home
chmod 1777 tmp var/tmp
chmod 0700 root
install -m 0755 "$busybox" bin/busybox
install -m 0755 "$agent" bin/vlab-agent

# Applet links: "usr/bin/env" -> "../../bin/busybox".
"$busybox" --list-full | while read -r applet; do
	case $applet in */*) ;; *) continue ;; esac # linuxrc and friends: not wanted
	[ -e "$applet" ] && continue
	up=$(dirname "$applet" | sed 's|[^/]*|..|g')
	mkdir -p "$(dirname "$applet")"
	ln -s "$up/bin/busybox" "$applet"
done

cp "$here"/files/etc/* etc/
chmod 0644 etc/*
echo "vlab-agent $("$agent" --version)" >etc/vlab/version

cd ..
rm -rf "$dest"
mv "$tmp" "$dest"
