#!/bin/bash
# SPDX-License-Identifier: MIT
# The package builds, installs and passes its check phase in a sandbox made
# like Nix's (tests/nixos/nix-sandbox.sh: no /bin but /bin/sh, tools on a
# PATH under another prefix, no network, read-only source, uid 1000), from
# exactly the files, make flags and check target that nixos/package.nix
# gives (read through tests/nixos/package-attrs.nix, builtins only):
#   - build and install phases from the package's own source;
#   - the check phase of passthru.tests.unit (the flake's checks.unit) from
#     its source;
#   - the package's source leaves out the README, the tests, the module and
#     the flake, so editing them does not change the helper's store path;
#   - controls: the sandbox has no /bin/echo, /usr/bin/env or network and a
#     read-only source; the same check target fails there when a test runs
#     /bin/echo (and that test binary passes outside), when the runner is
#     started by its #!/bin/bash line, and when a file the tests read is
#     missing from the source.
# Environment: NIX_BUILD_CORES (default 2).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
top=$T_TOP
sandbox=$here/nix-sandbox.sh

if ! command -v dpkg-query >/dev/null; then
	# The sandbox is made of Debian's packages. Where Nix can build, the
	# real thing is: nix build .#checks.x86_64-linux.unit
	echo "# not a Debian system: the Nix sandbox emulation is skipped"
	t_done
fi
for tool in bwrap nix-instantiate python3; do
	if ! command -v "$tool" >/dev/null; then
		t_fail "$tool not found (see scripts/install-deps.sh)"
		t_done
	fi
done

tmp=$(mktemp -d /tmp/vc-nix-sandbox-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home NIX_STATE_DIR=$tmp/nix-state NIX_CONF_DIR=$tmp/nix-conf
export NIX_CONFIG='build-users-group =' NIX_PATH=
unset NIX_REMOTE
mkdir -p "$HOME" "$NIX_CONF_DIR"

if ! nix-instantiate --store dummy:// --eval --strict --json "$here/package-attrs.nix" >"$tmp/attrs.json" 2>"$tmp/err"; then
	t_fail "tests/nixos/package-attrs.nix evaluates nixos/package.nix"
	sed 's/^/  /' "$tmp/err"
	t_done
fi
# attr DERIVATION KEY: one value per line (lists) or the value.
attr() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]]
for x in (v if isinstance(v, list) else [v]):
    print("" if x is None else str(x).lower() if isinstance(x, bool) else x)
' "$tmp/attrs.json" "$1" "$2"
}

# ---- What the sandbox cannot emulate must not be there.
for d in package unitTests; do
	un=$(attr $d unemulated)
	t_check "$d: sets no hook or phase the sandbox does not emulate (${un:-none})" [ -z "$un" ]
done
t_check "package: no check phase (its tests are passthru.tests.unit)" [ "$(attr package doCheck)" = false ]
t_check "unitTests: runs its check phase" [ "$(attr unitTests doCheck)" = true ]
check_target=$(attr unitTests checkTarget)
t_check "unitTests: has a check target ($check_target)" [ -n "$check_target" ]

# ---- The package's source: what the build reads, nothing that changes
# more often. A path is in the source when it or a directory above it is.
mapfile -t pkg_src < <(attr package src)
mapfile -t test_src < <(attr unitTests src)
in_src() {
	local path=$1 e
	shift
	for e in "$@"; do
		case $path in "$e" | "$e"/*) return 0 ;; esac
	done
	return 1
}
for f in README.md docs/ARCHITECTURE.md flake.nix default.nix nixos/module.nix nixos/package.nix \
	tests/run.sh tests/unit/test-runtime.c tests/nixos/vm-test.nix examples/vpn-confinement/tr.ini; do
	[ -e "$top/$f" ] || { t_fail "$f exists (the list below names files of this repository)"; continue; }
	t_check_not "package source leaves out $f" in_src "$f" "${pkg_src[@]}"
done
for f in "${pkg_src[@]}"; do
	t_check "unitTests source contains the package source's $f" in_src "$f" "${test_src[@]}"
done

# Debian packages standing for the nixpkgs packages on PATH in the build
# (nativeBuildInputs, nativeCheckInputs); stdenv's own are in nix-sandbox.sh.
declare -A debian=([pkg-config]=pkgconf)
declare -A deb_args
for d in package unitTests; do
	deb_args[$d]=
	for p in $(attr "$d" nativeBuildInputs) $(attr "$d" nativeCheckInputs); do
		if [ -n "${debian[$p]:-}" ]; then
			deb_args[$d]+=" -p ${debian[$p]}"
		else
			t_fail "$d: no Debian package known for nixpkgs' $p (add it to check-nix-sandbox.sh)"
		fi
	done
done

# A copy of a derivation's source (mtimes kept, so that one build directory
# serves both sources without rebuilding what is the same).
make_src() {
	local dest=$1 f
	shift
	mkdir -p "$dest"
	for f in "$@"; do
		[ -e "$top/$f" ] || { echo "missing $f"; return 1; }
		(cd "$top" && cp -a --parents "$f" "$dest/") || return 1
	done
}

# The make command of a stdenv phase (pkgs/stdenv/generic/setup.sh): -j
# when parallel, SHELL=$SHELL, makeFlags, the phase's flags, the target;
# plus BUILD= so that the output goes outside the read-only source.
make_cmd() {
	local d=$1 parallel=$2 flags=$3 target=$4
	echo make
	[ "$(attr "$d" "$parallel")" = true ] && echo "-j${NIX_BUILD_CORES:-2}"
	echo SHELL=/tools/bin/bash
	attr "$d" makeFlags
	attr "$d" "$flags"
	echo BUILD=/build/out
	[ -n "$target" ] && echo "$target"
}
# in_sandbox SRC DERIVATION LOG CMD...: runs CMD in the sandbox on SRC, with
# the build directory $tmp/build, output in LOG.
in_sandbox() {
	local src=$1 d=$2 log=$3
	shift 3
	# shellcheck disable=SC2086 # "-p PKG" pairs without spaces in them
	"$sandbox" -s "$src" -b "$tmp/build" -w "$tmp/tools-$d" ${deb_args[$d]} -- "$@" >"$log" 2>&1
}
show() { tail -n "${2:-15}" "$1" | sed 's/^/    /'; }
mkdir -p "$tmp/build"

# ---- The package: build and install phases from its own source.
if ! make_src "$tmp/pkg-src" "${pkg_src[@]}" >"$tmp/err" 2>&1; then
	t_fail "package source copies"; show "$tmp/err"
	t_done
fi
mapfile -t cmd < <(make_cmd package enableParallelBuilding buildFlags "")
if in_sandbox "$tmp/pkg-src" package "$tmp/build.log" "${cmd[@]}"; then
	t_pass "package: the build phase passes in the sandbox (${cmd[*]:0:2} ...)"
else
	t_fail "package: the build phase passes in the sandbox"; show "$tmp/build.log"
fi
mapfile -t cmd < <(make_cmd package enableParallelBuilding installFlags install)
if in_sandbox "$tmp/pkg-src" package "$tmp/install.log" "${cmd[@]}" DESTDIR=/build/dest; then
	t_pass "package: the install phase passes in the sandbox"
else
	t_fail "package: the install phase passes in the sandbox"; show "$tmp/install.log"
fi
prefix=$(attr package makeFlags | sed -n 's/^PREFIX=//p')
for f in bin/vpn-confinement lib/systemd/system-generators/vpn-confinement-generator \
	lib/systemd/system/netns@.service lib/systemd/system/wg-up@.service lib/systemd/system/vpn-ns@.service \
	lib/systemd/system/vpn-online@.service \
	lib/systemd/system/vpn-portfwd@.service share/vpn-confinement/examples/transmission-port-hook \
	share/vpn-confinement/examples/qbittorrent-port-hook \
	share/man/man8/vpn-confinement.8 share/man/man8/vpn-confinement-generator.8 share/man/man5/vpn-confinement.ini.5; do
	t_check "package: installs \$out/$f" test -f "$tmp/build/dest$prefix/$f"
done

# ---- passthru.tests.unit: its check phase, from its source.
if ! make_src "$tmp/test-src" "${test_src[@]}" >"$tmp/err" 2>&1; then
	t_fail "unitTests source copies"; show "$tmp/err"
	t_done
fi
mapfile -t build_cmd < <(make_cmd unitTests enableParallelBuilding buildFlags "")
mapfile -t check_cmd < <(make_cmd unitTests enableParallelChecking checkFlags "$check_target")
if in_sandbox "$tmp/test-src" unitTests "$tmp/check.log" "${build_cmd[@]}" &&
	in_sandbox "$tmp/test-src" unitTests "$tmp/check.log" "${check_cmd[@]}"; then
	t_pass "unitTests: the check phase (make $check_target) passes in the sandbox"
else
	t_fail "unitTests: the check phase (make $check_target) passes in the sandbox"; show "$tmp/check.log" 30
fi
total=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$tmp/check.log" | tail -n 1)
echo "# in the sandbox: $total"
t_check "unitTests: the check phase ran tests (${total:-no total line})" \
	grep -Eq '^[a-z-]+: [1-9][0-9]* passed, 0 failed' "$tmp/check.log"

# ---- Controls: the sandbox is what it claims, and the check can fail.
probe() { in_sandbox "$tmp/test-src" unitTests "$tmp/probe.log" /bin/sh -c "$1"; }
t_check "control: /bin/sh runs (busybox)" probe 'test "$(echo ok)" = ok'
t_check_not "control: no /bin/echo" probe '/bin/echo x'
t_check_not "control: no /usr/bin/env" probe '/usr/bin/env true'
t_check_not "control: no /bin/bash" probe '/bin/bash -c true'
t_check "control: echo, cat and env are on PATH" probe 'command -v echo && command -v cat && command -v env'
t_check "control: no network device but lo" probe '! grep -v "^ *lo:" /proc/net/dev | grep -q ":"'
t_check_not "control: no connection out" probe 'bash -c ": > /dev/tcp/192.0.2.1/80"'
t_check_not "control: the source is read-only" probe 'touch /build/source/x'
t_check "control: /build and /tmp are writable" probe 'touch /build/x /tmp/x'
t_check "control: the build runs as uid 1000" probe 'test "$(id -u)" = 1000'

t_check_not "control: tests/run.sh started by its #!/bin/bash line fails in the sandbox" \
	in_sandbox "$tmp/test-src" unitTests "$tmp/shebang.log" ./tests/run.sh --kind unit
t_check "  and through the bash on PATH it runs" \
	in_sandbox "$tmp/test-src" unitTests "$tmp/shebang.log" bash ./tests/run.sh --kind unit
# The source is exactly the listed files: without the example that
# test-config loads, the check phase fails.
cp -a "$tmp/test-src" "$tmp/noexample-src"
rm -r "$tmp/noexample-src/examples"
t_check_not "control: without examples/vpn-confinement in the source, make $check_target fails" \
	in_sandbox "$tmp/noexample-src" unitTests "$tmp/noexample.log" "${check_cmd[@]}"
t_check "  in test-config" grep -q 'examples/vpn-confinement loads cleanly' "$tmp/noexample.log"

# Last, as it leaves a different test-runtime in the build directory.
# The bug this check is for: a unit test running /bin/echo. Only
# test-runtime is rebuilt (the copy keeps the other files' mtimes).
cp -a "$tmp/test-src" "$tmp/echo-src"
sed -i 's|path_lookup("echo", echo_path, sizeof(echo_path))|"/bin/echo"|' "$tmp/echo-src/tests/unit/test-runtime.c"
if ! grep -q '"/bin/echo", "hello"' "$tmp/echo-src/tests/unit/test-runtime.c"; then
	t_fail "control: tests/unit/test-runtime.c still looks up echo with path_lookup (update this control)"
else
	in_sandbox "$tmp/echo-src" unitTests "$tmp/echo.log" "${check_cmd[@]}"
	rc=$?
	t_check "control: with /bin/echo in test-runtime, make $check_target fails in the sandbox" [ $rc -ne 0 ]
	t_check "  and says why (/bin/echo exit 127)" grep -q '/bin/echo exit 127' "$tmp/echo.log"
	t_check "  while the same test binary passes outside the sandbox" \
		sh -c '"$1" >"$2" 2>&1' sh "$tmp/build/out/tests/test-runtime" "$tmp/echo-outside.log"
fi
t_done
