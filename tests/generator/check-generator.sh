#!/bin/bash
# Golden tests of vpn-confinement-generator, the way systemd's and
# zram-generator's generator tests work: each tests/generator/NN-name/ holds
# input/ (the N.ini files; absent: no configuration directory at all) and
# expected/ (the tree the generator must write), plus expected.log (its
# messages) and expected-status (its exit status). The namespace files the
# NixOS module renders (tests/nixos/cases/CASE/expected/*.ini) are inputs
# too, with goldens in tests/generator/nixos-CASE/.
#
# Then every generated tree, with the built templates and stub services,
# must pass `systemd-analyze verify` with EMPTY stderr (verify exits 0 on an
# unknown key, so its exit status alone proves little), and an admin's
# later-sorting drop-in must override one hardening setting.
#
#   UPDATE=1 tests/generator/check-generator.sh   rewrites the goldens
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

gen=$BUILD/vpn-confinement-generator
helper=$BUILD/vpn-confinement
units=$BUILD/units
for f in "$gen" "$helper" "$units/netns@.service" "$units/wg-up@.service" "$units/vpn-ns@.service" \
	"$units/vpn-online@.service" "$units/vpn-portfwd@.service"; do
	[ -e "$f" ] || { echo "missing $f (run make)"; echo "0 passed, 1 failed"; exit 1; }
done
# The helper path compiled into the templates (and the generator).
helper_path=$(sed -n 's/^ExecStart=\([^ ]*\) netns-up .*/\1/p' "$units/netns@.service")
[ -n "$helper_path" ] || { echo "cannot find the helper path in $units/netns@.service"; exit 1; }

tmp=$(mktemp -d /tmp/vc-gen-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset VPN_CONFINEMENT_RUNDIR
export SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info
has_verify=false
command -v systemd-analyze >/dev/null && has_verify=true
# The stub services' ExecStart=: true from PATH (verify rejects a command
# that does not exist, and a Nix build sandbox has no /bin/true).
true_bin=$(type -P true) || { echo "no true on PATH"; echo "0 passed, 1 failed"; exit 1; }

# run_generator CONFDIR OUT LOGFILE: runs it systemd's way (3 directories)
# and prints its exit status; paths in the log and the tree are made
# independent of where this ran.
run_generator() {
	local conf=$1 out=$2 log=$3 rc
	mkdir -p "$out/normal" "$out/early" "$out/late"
	VPN_CONFINEMENT_CONFDIR=$conf "$gen" "$out/normal" "$out/early" "$out/late" 2>"$log.raw"
	rc=$?
	sed -e "s|$conf|/etc/vpn-confinement|g" -e "s|$out/normal|/run/systemd/generator|g" \
		"$log.raw" >"$log"
	echo "$rc"
}

# normalize OUT CONF: a copy of the tree with this run's paths replaced,
# and the build's helper and unit directory with the default ones (the
# goldens hold PREFIX=/usr paths, whatever PREFIX this was built with).
normalize() {
	local out=$1 conf=$2 l t
	rm -rf "$out/norm"
	cp -a "$out/normal" "$out/norm"
	find "$out/norm" -type f -exec sed -i -e "s|$conf|/etc/vpn-confinement|g" \
		-e "s|$out/normal|/run/systemd/generator|g" \
		-e "s|$helper_path |/usr/bin/vpn-confinement |g" {} +
	find "$out/norm" -type l -lname '/*' | while read -r l; do
		t=$(readlink "$l")
		ln -sfn "/usr/lib/systemd/system/${t##*/}" "$l"
	done
}

# verify_tree NAME OUT: systemd-analyze verify over every unit the tree
# touches, with the templates and a stub for each confined service.
verify_tree() {
	local name=$1 out=$2
	local v=$out/verify list=() u base stub err
	rm -rf "$v"; mkdir -p "$v/gen" "$v/tpl"
	cp -a "$out/normal/." "$v/gen/"
	cp "$units"/*.service "$v/tpl/"
	# The helper is not installed here: point the commands at the built one.
	find "$v/gen" "$v/tpl" -type f \( -name '*.service' -o -name '*.conf' \) \
		-exec sed -i "s|$helper_path |$helper |g" {} +
	for d in "$v/gen"/*.service.d; do
		[ -d "$d" ] || continue
		u=${d##*/}; u=${u%.d}
		case $u in
		netns@*|wg-up@*|vpn-ns@*|vpn-online@*|vpn-portfwd@*) list+=("$u"); continue ;;
		esac
		# A stub for the confined service (its template for an instance).
		base=$u
		case $u in *@?*.service) base=${u%%@*}@.service ;; esac
		stub=$v/tpl/$base
		printf '[Unit]\nDescription=stub\n\n[Service]\nExecStart=%s\n' "$true_bin" >"$stub"
		case $u in *@.service) u=${u%@.service}@verify.service ;; esac
		list+=("$u")
	done
	# A stub for each socket unit (its template for an instance), which
	# starts the stub service of its name (foo.socket with only foo@.service
	# confined: Accept=yes).
	for d in "$v/gen"/*.socket.d; do
		[ -d "$d" ] || continue
		u=${d##*/}; u=${u%.d}
		base=$u
		case $u in *@?*.socket) base=${u%%@*}@.socket ;; esac
		accept=
		case $base in
		*@.socket) ;;
		*) [ -e "$v/tpl/${base%.socket}.service" ] || accept='Accept=yes\n' ;;
		esac
		printf "[Unit]\nDescription=stub\n\n[Socket]\nListenStream=127.0.0.1:9\n$accept" >"$v/tpl/$base"
		case $u in *@.socket) u=${u%@.socket}@verify.socket ;; esac
		list+=("$u")
	done
	[ -f "$v/gen/vpn-confinement-errors.service" ] && list+=(vpn-confinement-errors.service)
	if [ ${#list[@]} -eq 0 ]; then
		t_pass "$name: nothing to verify"
		return
	fi
	# verify reads an argument with ':' as FILE:ALIAS: name such a unit as
	# an alias of a stub file (its drop-ins are read all the same).
	printf '[Unit]\nDescription=stub\n\n[Service]\nExecStart=%s\n' "$true_bin" >"$v/colon-stub.service"
	printf '[Unit]\nDescription=stub\n\n[Socket]\nListenStream=127.0.0.1:9\n' >"$v/colon-stub.socket"
	for i in "${!list[@]}"; do
		case ${list[$i]} in
		*:*.socket) list[$i]=$v/colon-stub.socket:${list[$i]} ;;
		*:*) list[$i]=$v/colon-stub.service:${list[$i]} ;;
		esac
	done
	err=$( cd "$v" && SYSTEMD_UNIT_PATH=$v/gen:$v/tpl: \
		systemd-analyze verify --man=no "${list[@]}" 2>&1 >/dev/null )
	if [ $? -eq 0 ] && [ -z "$err" ]; then
		t_pass "$name: systemd-analyze verify: ${#list[@]} units, stderr empty"
	else
		t_fail "$name: systemd-analyze verify"
		printf '%s\n' "$err" | sed 's/^/    /'
	fi
}

# check_case NAME CONFDIR GOLDEN_DIR [optional]
check_case() {
	local name=$1 conf=$2 golden=$3 optional=${4:-} out=$tmp/$1 rc want
	mkdir -p "$out"
	rc=$(run_generator "$conf" "$out" "$out/log")
	normalize "$out" "$conf"
	if [ -n "${UPDATE:-}" ]; then
		mkdir -p "$golden"
		rm -rf "$golden/expected"
		cp -a "$out/norm" "$golden/expected"
		cp "$out/log" "$golden/expected.log"
		echo "$rc" >"$golden/expected-status"
		echo "updated $golden"
	fi
	if [ -n "$optional" ] && [ ! -d "$golden" ]; then
		# A NixOS case added after the goldens were written: what the
		# module writes must at least be valid.
		t_check "$name: (no golden yet) exit status 0" [ "$rc" = 0 ]
		[ "$rc" = 0 ] || sed 's/^/    /' "$out/log"
	else
		want=$(cat "$golden/expected-status" 2>/dev/null || echo missing)
		t_check "$name: exit status $rc (want $want)" [ "$rc" = "$want" ]
		# git keeps no empty directory: a missing expected/ is an empty tree.
		mkdir -p "$tmp/empty"
		if diff -ru --no-dereference "$( [ -d "$golden/expected" ] && echo "$golden/expected" || echo "$tmp/empty")" \
			"$out/norm" >"$out/diff" 2>&1; then
			t_pass "$name: tree matches"
		else
			t_fail "$name: tree differs"; sed 's/^/    /' "$out/diff"
		fi
		if diff -u "$golden/expected.log" "$out/log" >"$out/logdiff" 2>&1; then
			t_pass "$name: messages match"
		else
			t_fail "$name: messages differ"; sed 's/^/    /' "$out/logdiff"
		fi
	fi
	# Properties every tree has, whatever the golden says.
	local bad
	bad=$(find "$out/normal" -type f ! -exec sh -c \
		'head -n 1 "$1" | grep -qx "# Automatically generated by vpn-confinement-generator"' _ {} \; -print)
	t_check "$name: every file starts with the generated-by line" [ -z "$bad" ]
	bad=$(grep -rl '^[[:space:]]*PrivateNetwork' "$out/normal")
	t_check "$name: no PrivateNetwork= anywhere" [ -z "$bad" ]
	for f in "$out/normal"/*.service.d/50-vpn-confinement.conf; do
		[ -f "$f" ] || continue
		case $f in */netns@*|*/wg-up@*|*/vpn-ns@*|*/vpn-online@*|*/vpn-portfwd@*) continue ;; esac
		# In its namespace, or (listed by a file whose name is no
		# namespace name) kept from starting and in none that exists.
		grep -q '^NetworkNamespacePath=/run/netns/[a-z][a-z0-9]*$' "$f" ||
			{ grep -qx 'NetworkNamespacePath=/run/netns/-invalid-' "$f" &&
			  grep -q '^ExecStartPre=+[^ ]* config-error - ' "$f"; } ||
			t_fail "$name: $f has no NetworkNamespacePath="
	done
	$has_verify && verify_tree "$name" "$out"
}

for c in "$here"/[0-9][0-9]-*/; do
	c=${c%/}
	check_case "${c##*/}" "$c/input" "$c"
done
for c in "$here"/../nixos/cases/*/expected; do
	[ -d "$c" ] || continue
	name=$(basename "$(dirname "$c")")
	check_case "nixos-$name" "$(cd "$c" && pwd)" "$here/nixos-$name" optional
done
for g in "$here"/nixos-*/; do
	g=${g%/}; name=${g##*/nixos-}
	t_check "nixos-$name: its NixOS case still exists" [ -d "$here/../nixos/cases/$name/expected" ]
done

# The verify check can fail: a bad key in a generated drop-in shows on
# stderr (while verify still exits 0).
if $has_verify; then
	n=$tmp/negative
	mkdir -p "$n/normal"
	VPN_CONFINEMENT_CONFDIR=$here/01-one/input "$gen" "$n/normal"
	echo "NoSuchSetting=1" >>"$n/normal/transmission.service.d/50-vpn-confinement.conf"
	out=$(verify_tree negative "$n")
	t_check "verify catches an unknown key in a drop-in" grep -q "^not ok - negative" <<<"$out"
	t_check "  and names it" grep -q "NoSuchSetting" <<<"$out"
fi

# A write error is loud, and the rest is still confined: here the drop-in
# directory of radarr.service is taken by a file.
w=$tmp/write-error
mkdir -p "$w/normal"
: >"$w/normal/radarr.service.d"
VPN_CONFINEMENT_CONFDIR=$here/02-several/input "$gen" "$w/normal" 2>"$w/log"
t_check "write error: exit status 1" [ $? = 1 ]
t_check "write error: reported" grep -q "cannot create link 'radarr.service.d/50-vpn-confinement.conf'" "$w/log"
for u in sonarr prowlarr transmission; do
	t_check "write error: $u.service is confined all the same" \
		grep -q '^NetworkNamespacePath=' "$w/normal/$u.service.d/50-vpn-confinement.conf"
done
t_check "write error: the namespaces are written" [ -L "$w/normal/multi-user.target.wants/vpn-ns@tr.service" ]

# Determinism: the same input twice gives byte-identical trees.
out1=$tmp/det1 out2=$tmp/det2
run_generator "$here/02-several/input" "$out1" "$out1/log" >/dev/null
run_generator "$here/02-several/input" "$out2" "$out2/log" >/dev/null
normalize "$out1" "$here/02-several/input"; normalize "$out2" "$here/02-several/input"
t_check "the same input gives the same tree" diff -r --no-dereference "$out1/norm" "$out2/norm"

# Argument handling (systemd.generator(7): 1 or 3 directories).
t_check_not "no argument is an error" "$gen" 2>/dev/null
t_check_not "two arguments are an error" "$gen" "$tmp" "$tmp" 2>/dev/null
mkdir -p "$tmp/one"
t_check "one argument is accepted" env VPN_CONFINEMENT_CONFDIR="$here/01-one/input" "$gen" "$tmp/one"
t_check "  and writes the .wants link" [ -L "$tmp/one/multi-user.target.wants/vpn-ns@tr.service" ]
t_check_not "an unusable runtime directory is refused" env VPN_CONFINEMENT_RUNDIR="/run/with space" \
	VPN_CONFINEMENT_CONFDIR="$here/01-one/input" "$gen" "$tmp/one" 2>/dev/null
mkdir -p "$tmp/two"
t_check "a relative output directory is refused" [ "$(cd "$tmp/two" && "$gen" . 2>/dev/null; echo $?)" = 1 ]

# Overrides: an admin's /etc/systemd/system/UNIT.d/60-override.conf sorts
# after 50-vpn-confinement.conf and wins for the one setting it changes;
# the rest of the confinement stays. Read through systemd's own offline
# security analysis of the merged unit.
if $has_verify && systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	o=$tmp/override
	mkdir -p "$o/normal" "$o/etc/transmission.service.d" "$o/tpl"
	VPN_CONFINEMENT_CONFDIR=$here/01-one/input "$gen" "$o/normal"
	cp "$units"/*.service "$o/tpl/"
	printf '[Unit]\nDescription=stub\n\n[Service]\nExecStart=%s\n' "$true_bin" >"$o/tpl/transmission.service"
	sec() { SYSTEMD_UNIT_PATH=$1 systemd-analyze security --offline=yes --no-pager transmission.service 2>/dev/null; }
	before=$(sec "$o/etc:$o/normal:$o/tpl:")
	printf '[Service]\nProtectHome=no\n' >"$o/etc/transmission.service.d/60-override.conf"
	after=$(sec "$o/etc:$o/normal:$o/tpl:")
	t_check "override: without it, ProtectHome= is on" grep -q '✓ ProtectHome=' <<<"$before"
	t_check "override: 60-override.conf turns ProtectHome= off" grep -q '✗ ProtectHome=' <<<"$after"
	t_check "override: the capability drop stays" grep -q '✓ CapabilityBoundingSet=~CAP_NET_ADMIN' <<<"$after"
	t_check "override: RestrictNamespaces= stays" grep -q '✓ RestrictNamespaces=~net' <<<"$after"

	# The confinement part stays when every hardening setting is relaxed,
	# and with Hardening=no (the NixOS module's ini).
	confinement_stays() { # DESC ANALYSIS
		local cap
		for cap in NET_ADMIN SYS_ADMIN SYS_PTRACE SYS_MODULE SYS_RAWIO BPF SYS_BOOT; do
			t_check "$1: CapabilityBoundingSet=~CAP_$cap stays" grep -q "✓ CapabilityBoundingSet=~CAP_$cap " <<<"$2"
		done
		t_check "$1: RestrictNamespaces= stays" grep -q '✓ RestrictNamespaces=~user' <<<"$2"
		t_check "$1: control: ProtectSystem= is off" grep -q '✗ ProtectSystem=' <<<"$2"
	}
	printf '[Service]\nProtectSystem=no\nPrivateTmp=no\nPrivateDevices=no\nProtectHome=no\nProtectKernelTunables=no\nProtectKernelModules=no\nProtectKernelLogs=no\nProtectControlGroups=no\nNoNewPrivileges=no\nRestrictSUIDSGID=no\n' \
		>"$o/etc/transmission.service.d/60-override.conf"
	t_check "override: control: before, ProtectSystem= is on" grep -q '✓ ProtectSystem=' <<<"$before"
	confinement_stays "override of every hardening setting" "$(sec "$o/etc:$o/normal:$o/tpl:")"
	h=$tmp/hardening-no
	mkdir -p "$h/normal"
	t_check "Hardening=no: the generator runs" env \
		VPN_CONFINEMENT_CONFDIR="$(cd "$here/../nixos/cases/basic/expected" && pwd)" "$gen" "$h/normal"
	t_check_not "Hardening=no: the drop-in has no hardening" \
		grep -q '^ProtectSystem=' "$h/normal/transmission.service.d/50-vpn-confinement.conf"
	confinement_stays "Hardening=no" "$(sec "$h/normal:$o/tpl:")"

	# 18-bad-name-units: Tr.ini (no namespace name) keeps sonarr@.service
	# from starting, tr.ini confines sonarr@main.service. The instance's
	# drop-in replaces the template's of the same name: sonarr@main gets
	# the confinement (its hardening shows), another instance only the
	# block (no hardening).
	b=$tmp/blocked
	mkdir -p "$b/normal" "$b/tpl"
	VPN_CONFINEMENT_CONFDIR=$here/18-bad-name-units/input "$gen" "$b/normal" 2>/dev/null
	cp "$units"/*.service "$b/tpl/"
	printf '[Unit]\nDescription=stub\n\n[Service]\nExecStart=%s\n' "$true_bin" >"$b/tpl/sonarr@.service"
	sec_of() { SYSTEMD_UNIT_PATH=$b/normal:$b/tpl: systemd-analyze security --offline=yes --no-pager "$1" 2>/dev/null; }
	t_check "bad name: sonarr@main.service keeps its namespace's confinement" \
		grep -q '✓ RestrictNamespaces=~net' <<<"$(sec_of sonarr@main.service)"
	t_check "bad name: sonarr@other.service gets only the block" \
		grep -q '✗ RestrictNamespaces=~net' <<<"$(sec_of sonarr@other.service)"
fi

t_done
