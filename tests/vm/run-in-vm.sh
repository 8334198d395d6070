#!/bin/bash
# Run one command inside a throwaway VM that boots Debian's own kernel, which
# has the WireGuard module (this machine's kernel does not).
#
#   tests/vm/run-in-vm.sh [--] COMMAND [ARG...]
#
# Contract:
# - COMMAND runs as root in the VM, chrooted into this machine's / (shared
#   read-only over 9p under a tmpfs overlay: the guest may write anywhere,
#   nothing reaches the host), in the current directory, stdin /dev/null.
#   /proc, /sys, /dev and /run are the VM's own and start empty; /tmp is
#   the host's under the overlay, like every other directory, so a checkout
#   or cache under /tmp (as a CI clone may be) is there too.
#   The guest kernel's modules are at /lib/modules/$(uname -r): modprobe works.
# - Its stdout and stderr are streamed to this script's stdout as it runs.
# - This script exits with COMMAND's exit code; 124 when the guard timeout
#   (VM_TIMEOUT) killed the VM; 125 when the VM could not be set up or did
#   not report (a message on stderr says which, and the kernel console log
#   is printed).
# - Environment inside: PATH, HOME=/root, LANG=C.UTF-8, RUN_IN_VM=1, plus each
#   variable named in VM_PASS_ENV (space-separated) copied from here.
# - The VM has no network device. It does not touch this machine's network.
#
# Settings (environment): VM_SLOTS (how many VMs may run at once on this
# machine, default its number of CPUs; a VM waits for a slot),
# VM_TIMEOUT (seconds, default 900), VM_MEM (2G),
# VM_SMP (1), VM_ACCEL (tcg), VM_CACHE (default .cache/vm at the repository
# top), VM_KERNEL_PACKAGE (default: what linux-image-amd64 depends on),
# VM_KERNEL_VERSION (default: apt's candidate), VM_VERBOSE=1 (also print the
# kernel console log on success), VM_APPEND (more kernel parameters),
# VM_CPU (qemu -cpu, default qemu64), VM_INIT=systemd (boot the guest's systemd
# as pid 1 to basic.target and run the command as a service, vm-run.service;
# slower to boot: 20-30 s here).
# One vCPU is the default: on this 2-CPU machine the runtime test took 75 s
# with -smp 1 against 91 s with -smp 2.
# Spectre mitigations are off in the guest: under TCG they cost more than a
# third of the run, and the guest is a throwaway test machine.
#
# The kernel package is fetched with `apt-get download` the first time and
# kept, extracted, under VM_CACHE. Its name and version are printed on stderr
# so a failure can be reproduced (VM_KERNEL_PACKAGE=... VM_KERNEL_VERSION=...).
set -eEuo pipefail
trap 'echo "run-in-vm: setup failed at line $LINENO (status $?)" >&2; exit 125' ERR

[ "${1:-}" = -- ] && shift
if [ $# -eq 0 ]; then
	echo "usage: $0 [--] COMMAND [ARG...]" >&2
	exit 125
fi

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_TIMEOUT=${VM_TIMEOUT:-900}
VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-1}
VM_ACCEL=${VM_ACCEL:-tcg}
# qemu64 rather than max: TCG emulates fewer features (no 5-level paging, no
# AVX for the kernel's crypto), and process starts were 20% faster here.
VM_CPU=${VM_CPU:-qemu64}
VM_INIT=${VM_INIT:-shell}
VM_CACHE=${VM_CACHE:-$top/.cache/vm}
BUSYBOX=/bin/busybox
# Loaded by the initramfs, with their dependencies, in this order.
INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

say() { echo "run-in-vm: $*" >&2; }
die() { say "$*"; exit 125; }

for tool in qemu-system-x86_64 "$BUSYBOX" cpio dpkg-deb depmod modprobe apt-get flock timeout xz; do
	command -v "$tool" >/dev/null || die "missing $tool (run scripts/install-deps.sh)"
done

# --- The kernel: resolve, download once, extract, depmod -------------------

resolve_kernel() {
	pkg=${VM_KERNEL_PACKAGE:-}
	if [ -z "$pkg" ]; then
		pkg=$(apt-cache depends linux-image-amd64 |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
		[ -n "$pkg" ] || die "cannot resolve what linux-image-amd64 depends on (apt-get update?)"
	fi
	ver=${VM_KERNEL_VERSION:-}
	if [ -z "$ver" ]; then
		ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
		if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
			die "no candidate version of $pkg (apt-get update?)"
		fi
	fi
}

# Fills $kroot (the extracted package) and $kver (its uname -r).
prepare_kernel() {
	kroot=$VM_CACHE/${pkg}_$ver
	mkdir -p "$VM_CACHE"
	exec 9>"$VM_CACHE/lock"
	flock 9
	if [ ! -e "$kroot/.complete" ]; then
		local tmp
		tmp=$(mktemp -d "$VM_CACHE/tmp.XXXXXX")
		say "downloading $pkg=$ver"
		(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") >&2 ||
			{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
		dpkg-deb -x "$tmp"/*.deb "$tmp/root"
		rm -rf "$kroot"
		mv "$tmp/root" "$kroot"
		rm -rf "$tmp"
		local v
		v=$(ls "$kroot/lib/modules")
		depmod -b "$kroot" "$v"
		extract_vmlinux "$v"
		touch "$kroot/.complete"
	fi
	flock -u 9
	kver=$(ls "$kroot/lib/modules")
	kimage=$kroot/boot/vmlinuz-$kver
	[ -f "$kimage" ] || die "no kernel image in $kroot"
	# Booting the uncompressed ELF through its PVH entry point skips the
	# decompressor, which takes seconds under TCG.
	if [ -f "$kroot/vmlinux" ]; then kimage=$kroot/vmlinux; fi
}

# Extracts the ELF kernel from an xz-compressed bzImage into $kroot/vmlinux,
# when the kernel can boot that way (CONFIG_PVH).
extract_vmlinux() {
	local v=$1 off
	grep -qx CONFIG_PVH=y "$kroot/boot/config-$v" || return 0
	off=$(LC_ALL=C grep -abo -m 1 $'\xfd7zXZ\x00' "$kroot/boot/vmlinuz-$v" | cut -d: -f1)
	[ -n "$off" ] || return 0
	{
		dd bs="$off" count=1 of=/dev/null status=none
		xz -dc --single-stream
	} <"$kroot/boot/vmlinuz-$v" >"$kroot/vmlinux.tmp"
	mv "$kroot/vmlinux.tmp" "$kroot/vmlinux"
}

# --- The initramfs: busybox, a few modules, /init ---------------------------

# The guest's /init. The kernel console (ttyS0) goes to a log file; the
# command's output goes to ttyS1, which is this script's stdout. Settings
# arrive through the writable 9p share "io" (guest.env).
guest_init() {
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "vm-init: $*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod "/modules/$m" || fail "insmod $m"; done
mkdir -p /lower /rw /io /newroot
p9=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$p9,ro,cache=loose" root /lower || fail "mount 9p root"
mount -t 9p -o "$p9" io /io || fail "mount 9p io"
. /io/guest.env
mount -t tmpfs -o mode=0755 rw /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "mount overlay"
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o ptmxmode=0666,mode=0620 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 shm $r/dev/shm
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mount -t tmpfs -o mode=0755 run $r/run
# The guest kernel's modules where modprobe looks for them.
mkdir -p "$r/lib/modules/$VM_KVER"
mount --bind "$r$VM_MODDIR" "$r/lib/modules/$VM_KVER" || fail "bind modules"
mkdir -p $r/run/vm-io
mount --move /io $r/run/vm-io
hostname vm
ip link set lo up
# The kernel loads modules on demand (ip link add ... type veth) by running
# this in pid 1's root, which is the initramfs: go to the real modprobe.
printf '#!/bin/busybox sh\nexec chroot /newroot /sbin/modprobe "$@"\n' >/bin/modprobe-chroot
chmod 0755 /bin/modprobe-chroot
echo /bin/modprobe-chroot >/proc/sys/kernel/modprobe
# Device nodes whose modules load on first open (/dev/net/tun), as
# systemd's kmod-static-nodes would make them.
grep -v '^#' "$r/lib/modules/$VM_KVER/modules.devname" | while read -r mod node dev; do
	[ -e "$r/dev/$node" ] && continue
	case $node in */*) mkdir -p "$r/dev/${node%/*}" ;; esac
	majmin=${dev#?}
	mknod -m 0600 "$r/dev/$node" "${dev%"$majmin"}" "${majmin%:*}" "${majmin#*:}" ||
		fail "mknod /dev/$node"
done
chmod 0666 $r/dev/net/tun
stty -F /dev/ttyS1 raw -echo
if [ "$VM_INIT" = systemd ]; then
	# systemd as pid 1 on the overlay root, booting only to basic.target
	# plus the command's service, which powers the VM off when it ends.
	echo /sbin/modprobe >/proc/sys/kernel/modprobe
	cat >$r/etc/systemd/system/vm-run.target <<'UNIT'
[Unit]
Description=run-in-vm: the command
Requires=basic.target vm-run.service
After=basic.target vm-run.service
AllowIsolate=yes
UNIT
	cat >$r/etc/systemd/system/vm-run.service <<'UNIT'
[Unit]
Description=run-in-vm: the command
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/bin/sh /run/vm-io/run.sh
UNIT
	exec switch_root $r /lib/systemd/systemd --unit=vm-run.target
fi
chroot $r /bin/sh /run/vm-io/run.sh
poweroff -f
EOF
}

# Runs in the guest's root: the command, its exit code and timestamps into
# the io share, output to ttyS1.
guest_run() {
	cat <<'EOF'
io=/run/vm-io
cut -d' ' -f1 /proc/uptime >$io/uptime-start
/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 RUN_IN_VM=1 /bin/bash $io/cmd.sh </dev/null >/dev/ttyS1 2>&1
echo $? >$io/rc
cut -d' ' -f1 /proc/uptime >$io/uptime-end
EOF
}

# Writes the initramfs (uncompressed cpio) to $1.
build_initrd() {
	local out=$1 dir
	dir=$(mktemp -d "$work/initrd.XXXXXX")
	mkdir -p "$dir/bin" "$dir/modules" "$dir/proc" "$dir/sys" "$dir/dev"
	cp "$BUSYBOX" "$dir/bin/busybox"
	guest_init >"$dir/init"
	chmod 0755 "$dir/init"
	local m path name
	for m in $INITRD_MODULES; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r path; do
		name=${path##*/}
		case $name in
		*.ko) cp "$path" "$dir/modules/$name" ;;
		*.ko.xz) xz -dc "$path" >"$dir/modules/${name%.xz}"; name=${name%.xz} ;;
		*.ko.zst) zstd -qdc "$path" >"$dir/modules/${name%.zst}"; name=${name%.zst} ;;
		*) die "unexpected module file $path" ;;
		esac
		echo "$name" >>"$dir/modules/order"
	done
	(cd "$dir" && find . | cpio -o -H newc --quiet) >"$out"
}

# --- Run ---------------------------------------------------------------------

resolve_kernel
prepare_kernel
say "kernel $pkg $ver ($kver), accel $VM_ACCEL, timeout ${VM_TIMEOUT}s"

work=$(mktemp -d "${TMPDIR:-/tmp}/run-in-vm.XXXXXX")
tpid=
cleanup() {
	if [ -n "$tpid" ] && kill -0 "$tpid" 2>/dev/null; then
		kill -TERM "$tpid"
		wait "$tpid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_initrd "$work/initrd.cpio"
mkdir "$work/io"
{
	printf 'VM_KVER=%q\n' "$kver"
	printf 'VM_MODDIR=%q\n' "$kroot/lib/modules/$kver"
	printf 'VM_INIT=%q\n' "$VM_INIT"
} >"$work/io/guest.env"
guest_run >"$work/io/run.sh"
{
	printf 'cd %q || exit 125\n' "$PWD"
	for v in ${VM_PASS_ENV:-}; do
		if [ -n "${!v+x}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
	done
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$work/io/cmd.sh"

# At most VM_SLOTS VMs run at once on this machine (default: its CPUs), so
# that test tiers run side by side never oversubscribe it with TCG guests,
# each of which keeps a CPU busy. A slot is a lock on a file in VM_CACHE,
# held by this script until it exits.
take_vm_slot() {
	local slots=${VM_SLOTS:-$(nproc)} i waited=0
	for ((;;)); do
		for ((i = 0; i < slots; i++)); do
			exec 8>"$VM_CACHE/slot.$i"
			if flock -n 8; then
				[ $waited -eq 0 ] || say "got VM slot $i after ${waited}s"
				return 0
			fi
			exec 8>&-
		done
		sleep 1
		waited=$((waited + 1))
	done
}
take_vm_slot

start=$(date +%s.%N)
timeout --kill-after=10 "$VM_TIMEOUT" \
	qemu-system-x86_64 -nodefaults -no-user-config -no-reboot \
	-accel "$VM_ACCEL" -cpu "$VM_CPU" -m "$VM_MEM" -smp "$VM_SMP" \
	-display none -nic none \
	-kernel "$kimage" -initrd "$work/initrd.cpio" \
	-append "console=ttyS0 quiet mitigations=off panic=-1 rdinit=/init ${VM_APPEND:-}" \
	-serial "file:$work/console.log" -serial stdio \
	-virtfs local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$work/io,mount_tag=io,security_model=none" \
	</dev/null &
tpid=$!
qrc=0
wait "$tpid" || qrc=$?
tpid=
end=$(date +%s.%N)

if [ "${VM_VERBOSE:-}" = 1 ]; then
	say "kernel console:"
	cat "$work/console.log" >&2
fi
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	say "timeout: killed the VM after ${VM_TIMEOUT}s; kernel console:"
	tail -n 40 "$work/console.log" >&2
	exit 124
fi
if [ ! -s "$work/io/rc" ]; then
	say "the VM did not report an exit code (qemu exit $qrc); kernel console:"
	tail -n 40 "$work/console.log" >&2
	exit 125
fi
rc=$(cat "$work/io/rc")
awk -v s="$start" -v e="$end" -v b="$(cat "$work/io/uptime-start")" \
	-v f="$(cat "$work/io/uptime-end")" -v rc="$rc" 'BEGIN {
	printf "run-in-vm: exit %d; VM %.1fs total, command started %.1fs after boot, ran %.1fs\n",
		rc, e - s, b, f - b }' >&2
exit "$rc"
