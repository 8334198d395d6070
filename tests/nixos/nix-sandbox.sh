#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs a command in a sandbox made like a Nix build's, from this Debian
# machine's own tools (bubblewrap, no Nix needed):
#   - no /bin or /usr/bin, only /bin/sh (busybox, as Nix's sandbox shell);
#   - the tools of the given Debian packages on PATH=/tools/bin, a prefix no
#     script can guess (the binaries themselves stay under /tools/host-usr);
#   - no network: a network namespace of its own with only lo;
#   - uid 1000, gid 100, hostname localhost, /etc with only passwd, group
#     and hosts (plus ld.so.cache, which Debian's binaries need and Nix's do
#     not), HOME=/homeless-shelter, TMPDIR=/build, a writable /tmp;
#   - the source tree read-only at /build/source (the working directory),
#     the writable build directory at /build.
# Libraries and headers stay where Debian has them (/usr/lib, /usr/include):
# in Nix they come from the store, which is not what this sandbox tests.
#
#   tests/nixos/nix-sandbox.sh -s SRCDIR -b BUILDDIR [-p DEBPKG]... [-w DIR] -- CMD...
#
# -p adds the executables of a Debian package (and of the packages that
# stand for nixpkgs' stdenv and its C compiler, always) to PATH. -w keeps
# the tools directory and /etc in DIR and reuses them when DIR has them
# (the -p list is then the one of the run that made DIR).
# tests/nixos/check-nix-sandbox.sh runs the package's make targets here.
set -u
die() { echo "nix-sandbox.sh: $*" >&2; exit 2; }

src= build= pkgs=() work=
while [ $# -gt 0 ]; do
	case $1 in
	-s) src=$2; shift 2 ;;
	-b) build=$2; shift 2 ;;
	-p) pkgs+=("$2"); shift 2 ;;
	-w) work=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown argument $1" ;;
	esac
done
[ -d "$src" ] && [ -d "$build" ] && [ $# -gt 0 ] || die "usage: $0 -s SRCDIR -b BUILDDIR [-p DEBPKG]... -- CMD..."
command -v bwrap >/dev/null || die "bwrap not found (Debian package bubblewrap, see scripts/install-deps.sh)"
[ -x /usr/bin/busybox ] || die "/usr/bin/busybox not found (Debian package busybox-static)"

# nixpkgs' stdenv puts these on PATH (pkgs/stdenv/generic/common-path.nix:
# coreutils findutils diffutils gnused gnugrep gawk gnutar gzip bzip2
# gnumake bash patch xz file), plus the C compiler and binutils. Debian
# has mawk, not gawk, as its awk.
stdenv_pkgs=(coreutils findutils diffutils sed grep mawk tar gzip bzip2 make bash patch xz-utils file
	gcc gcc-12 cpp cpp-12 binutils binutils-x86-64-linux-gnu)

# /tools/bin/NAME -> the real file, seen under /tools/host-usr (all of /usr,
# so that gcc finds cc1 relative to itself) when it is in /usr/bin or
# /usr/sbin (hidden in the sandbox), else at its own path.
link_tool() {
	local name=$1 real
	real=$(readlink -f "$2") || return 0
	[ -x "$real" ] && [ -f "$real" ] || return 0
	case $real in
	/usr/bin/* | /usr/sbin/*) real=/tools/host-usr/${real#/usr/} ;;
	esac
	ln -sfn "$real" "$work/bin.new/$name"
}
# The tools directory (bin/) and /etc (etc/) of the sandbox, in $work.
make_tools() {
	local p f files
	mkdir -p "$work/bin.new" "$work/etc"
	for p in "${stdenv_pkgs[@]}" "${pkgs[@]}"; do
		files=$(dpkg-query -L "$p" 2>/dev/null) || die "Debian package $p is not installed"
		while IFS= read -r f; do
			case $f in
			/bin/?* | /sbin/?* | /usr/bin/?* | /usr/sbin/?*) link_tool "${f##*/}" "$f" ;;
			esac
		done <<<"$files"
	done
	# nixpkgs' bash has bin/sh and gawk bin/awk; Debian's sh is dash
	# (another package) and its awk an alternative for mawk.
	ln -sfn bash "$work/bin.new/sh"
	ln -sfn mawk "$work/bin.new/awk"
	# cc is Debian's alternative for gcc, made by update-alternatives, not
	# listed by dpkg. Like nixpkgs' cc-wrapper, it adds the hardening flags
	# that can change whether a build passes or a test aborts (the
	# wrapper's defaults: fortify, format, stack protector, PIE, relro,
	# bindnow).
	cat >"$work/bin.new/cc" <<'EOF2'
#!/tools/bin/bash
exec /tools/bin/gcc -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-Wformat -Wformat-security -Werror=format-security -fPIE -pie -Wl,-z,relro -Wl,-z,now "$@"
EOF2
	chmod 0755 "$work/bin.new/cc"
	[ -L "$work/bin.new/gcc" ] && [ -L "$work/bin.new/bash" ] && [ -L "$work/bin.new/make" ] ||
		die "no gcc, bash or make among the tools"

	# What Nix writes into the sandbox's /etc (nixbld is uid 1000, gid 100).
	cat >"$work/etc/passwd" <<'EOF2'
root:x:0:0:Nix build user:/build:/noshell
nixbld:x:1000:100:Nix build user:/build:/noshell
nobody:x:65534:65534:Nobody:/:/noshell
EOF2
	printf 'root:x:0:\nnixbld:!:100:\nnogroup:x:65534:\n' >"$work/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$work/etc/hosts"
	if [ -f /etc/ld.so.cache ]; then cp /etc/ld.so.cache "$work/etc/"; fi
	mv "$work/bin.new" "$work/bin"
}

keep=true
if [ -z "$work" ]; then
	work=$(mktemp -d /tmp/vc-nix-sandbox.XXXXXX)
	keep=false
	trap 'rm -rf "$work"' EXIT
fi
[ -d "$work/bin" ] || make_tools

bwrap --unshare-all --die-with-parent --new-session \
	--uid 1000 --gid 100 --hostname localhost \
	--ro-bind /usr /usr \
	--tmpfs /usr/bin --remount-ro /usr/bin \
	--tmpfs /usr/sbin --remount-ro /usr/sbin \
	--tmpfs /usr/local --remount-ro /usr/local \
	--symlink usr/lib /lib --symlink usr/lib64 /lib64 \
	--dir /bin --ro-bind /usr/bin/busybox /bin/sh \
	--ro-bind /usr /tools/host-usr \
	--ro-bind "$work/bin" /tools/bin \
	--ro-bind "$work/etc" /etc \
	--proc /proc --dev /dev --tmpfs /tmp --chmod 1777 /tmp \
	--bind "$build" /build \
	--ro-bind "$src" /build/source \
	--chdir /build/source \
	--clearenv \
	--setenv PATH /tools/bin \
	--setenv SHELL /tools/bin/bash \
	--setenv HOME /homeless-shelter \
	--setenv TMPDIR /build --setenv TEMPDIR /build --setenv TMP /build --setenv TEMP /build \
	--setenv NIX_BUILD_TOP /build \
	--setenv NIX_BUILD_CORES "${NIX_BUILD_CORES:-2}" \
	--setenv TERM dumb \
	-- "$@"
rc=$?
$keep || rm -rf "$work"
trap - EXIT
exit $rc
