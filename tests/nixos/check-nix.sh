#!/bin/bash
# SPDX-License-Identifier: MIT
# The Nix side, checked with nothing but Debian's nix-bin (no nixpkgs, no
# network, no store writes):
#   - every .nix file in the repository parses;
#   - the builtins-only ini renderer (nixos/render-ini.nix) turns each example
#     configuration tests/nixos/cases/CASE/config.nix into ini files
#     byte-identical to tests/nixos/cases/CASE/expected/*.ini, and the
#     examples pass the module's assertions;
#   - the assertion predicates (tests/nixos/assertions-test.nix);
#   - every option reaches the ini (tests/nixos/options-test.nix);
#   - the module's decisions (tests/nixos/module-test.nix): which units a
#     switch restarts, computed from the rendered ini; overrideStrategy;
#     the links dhcpcd, NetworkManager and networkd must leave alone
#     (against networkd's default .network files); the nftables warning;
#   - the keys that restart one unit of a namespace rather than all of it
#     are [Namespace] keys of common/config.c's key_defs[];
#   - module.nix applies them to the right options, at the right priority
#     (tests/nixos/module-wiring-test.nix); services.vpnConfinement.metrics
#     (tests/nixos/metrics-test.nix);
#   - the NixOS VM test's Python script compiles and names only its nodes,
#     and its probe tells a negative check from a failure to check;
#   - the Nix snippets of README.md (```nix blocks) parse, those that
#     configure vpnNamespaces render and pass the assertions, and examples
#     marked with a "readme" file appear in README.md verbatim;
#   - with the generator built: each golden ini is accepted by the real
#     parser and confines its units (Nix -> ini -> units), and the module's
#     hardening list equals what the generator writes for Hardening=yes.
# Environment: README (default: the repository's README.md), BUILD.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
top=$T_TOP
cases_dir=$here/cases
readme=${README:-$top/README.md}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A fresh machine, possibly as root in CI: no Nix daemon, no /nix state, no
# nixbld group, no channels. --store dummy:// keeps nix off any real store
# (a path that would be copied into the store is an error, which is what we
# want: nothing here may copy a file, least of all a WireGuard config).
export HOME=$tmp/home NIX_STATE_DIR=$tmp/nix-state NIX_CONF_DIR=$tmp/nix-conf
export NIX_CONFIG='build-users-group =' NIX_PATH=
unset NIX_REMOTE
mkdir -p "$HOME" "$NIX_CONF_DIR"
nixi() { nix-instantiate --store dummy:// "$@"; }

if ! command -v nix-instantiate >/dev/null; then
	t_fail "nix-instantiate not found (Debian package nix-bin, see scripts/install-deps.sh)"
	t_done
fi
# Every result below goes through python3: without it a check would see
# no problems and no rows, and pass.
if ! command -v python3 >/dev/null; then
	t_fail "python3 not found (see scripts/install-deps.sh)"
	t_done
fi

# Evaluates EXPR (a Nix expression over builtins) to JSON on stdout.
nix_json() { nixi --eval --strict --json --expr "$1"; }

# Prints "ok"/"not ok" lines for a test file that evaluates to a list of
# { name, ok, detail }, and counts them.
run_table() {
	local file=$1 out
	if ! out=$(nixi --eval --strict --json "$file" 2>"$tmp/err"); then
		t_fail "$file evaluates"
		sed 's/^/  /' "$tmp/err"
		return
	fi
	if ! python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert rows, "no rows"
for r in rows:
    print("%d\t%s\t%s" % (r["ok"], r["name"], r["detail"].replace("\\", "\\\\").replace("\n", "\\n").replace("\t", " ")))
' <<<"$out" >"$tmp/rows" 2>"$tmp/err"; then
		t_fail "$file gives a non-empty list of { name, ok, detail }"
		sed 's/^/  /' "$tmp/err"
		return
	fi
	while IFS=$'\t' read -r ok name detail; do
		if [ "$ok" = 1 ]; then
			t_pass "$name"
		else
			t_fail "$name"
			printf '%b\n' "$detail" | sed 's/^/    /'
		fi
	done <"$tmp/rows"
}

# Writes the JSON object {file: text} on stdin as files into directory $1.
write_files() {
	python3 -c '
import json, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
for name, text in json.load(sys.stdin).items():
    with open(os.path.join(d, name), "w", newline="") as f:
        f.write(text)
' "$1"
}

# The ini files and assertion messages of a configuration module.
render_expr() {
	printf '%s' "let pure = import $top/nixos/pure.nix; cfg = pure.evalConfig (import $1); in { files = pure.iniFiles cfg; problems = pure.problems cfg; }"
}

# ---- 1. Every .nix file parses.
while IFS= read -r f; do
	if nixi --parse "$f" >/dev/null 2>"$tmp/err"; then
		t_pass "parses: ${f#"$top"/}"
	else
		t_fail "parses: ${f#"$top"/}"
		sed 's/^/  /' "$tmp/err"
	fi
done < <(find "$top" \( -name .git -o -name build -o -name 'result*' \) -prune -o -name '*.nix' -type f -print | sort)

# ---- 2. Golden ini files from the example configurations.
for case_dir in "$cases_dir"/*/; do
	case_dir=${case_dir%/}
	case_name=$(basename "$case_dir")
	out=$tmp/render/$case_name
	if ! nix_json "$(render_expr "$case_dir/config.nix")" >"$tmp/json" 2>"$tmp/err"; then
		t_fail "$case_name: config.nix renders"
		sed 's/^/  /' "$tmp/err"
		continue
	fi
	python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["files"], sys.stdout)' <"$tmp/json" | write_files "$out"
	if diff -ru "$case_dir/expected" "$out" >"$tmp/diff"; then
		t_pass "$case_name: rendered ini files match expected/ byte for byte"
	else
		t_fail "$case_name: rendered ini files match expected/ byte for byte"
		sed 's/^/  /' "$tmp/diff"
	fi
	if ! problems=$(python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["problems"]))' <"$tmp/json"); then
		t_fail "$case_name: its assertion messages can be read"
	elif [ -z "$problems" ]; then
		t_pass "$case_name: passes the module's assertions"
	else
		t_fail "$case_name: passes the module's assertions"
		printf '%s\n' "$problems" | sed 's/^/  /'
	fi
done

# A path literal must be rendered as its string, never copied to the store:
# with the dummy store a copy would fail to evaluate, and the text shows it.
t_check "all-options: a path-literal wireguardConfigFile is written as its path" \
	grep -qx 'WireGuardConfigFile=/var/lib/secrets/all-options.conf' "$tmp/render/all-options/all.ini"

# ---- 3. Assertion predicates, table-driven.
run_table "$here/assertions-test.nix"

# ---- 4. Every option shows in the ini.
run_table "$here/options-test.nix"

# ---- 4b. The module's decisions, and where module.nix puts them.
run_table "$here/module-test.nix"
run_table "$here/module-wiring-test.nix"

# The keys that restart one unit of a namespace instead of all of it
# (pure.namespaceKeyUnit) are [Namespace] keys of the C parser's table: a
# key renamed there must not silently fall out of the table here (the
# other way round, a key the table does not know restarts the namespace).
if keys=$(nix_json "builtins.attrNames (import $top/nixos/pure.nix).namespaceKeyUnit" 2>"$tmp/err") &&
	keys=$(python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)))' <<<"$keys") && [ -n "$keys" ]; then
	missing=
	while read -r key; do
		grep -Eq "\{ SECTION_NAMESPACE, \"$key\"," "$top/common/config.c" || missing+=" $key"
	done <<<"$keys"
	if [ -z "$missing" ]; then
		t_pass "pure.namespaceKeyUnit names only [Namespace] keys of common/config.c key_defs[] ($(wc -l <<<"$keys") keys)"
	else
		t_fail "pure.namespaceKeyUnit names keys that common/config.c key_defs[] has not in [Namespace]:$missing"
	fi
else
	t_fail "pure.namespaceKeyUnit can be read"
	sed 's/^/  /' "$tmp/err"
fi
run_table "$here/metrics-test.nix"

# ---- 4c. pure.hostLinks names the WireGuard interface's temporary host
# name as "vc-N-*", after wg-up's (helpers/tunnel.c, tmpname_pick): if that
# changes, dhcpcd, NetworkManager and networkd must be told the new one.
t_check "pure.hostLinks' vc-N-* is the temporary name wg-up gives (\"vc-%s-%04x\" in helpers/tunnel.c)" \
	grep -q 'snprintf(out, IF_NAMESIZE, "vc-%s-%04x", ns, rnd)' "$top/helpers/tunnel.c"

# ---- 5. The NixOS VM test's Python script (it only runs where Nix can
# boot VMs): it compiles, and every global it uses is a node or a name the
# NixOS test driver provides.
if nix_json "let t = import $here/vm-test.nix { module = null; }; in { script = t.testScript; nodes = builtins.attrNames t.nodes; }" >"$tmp/vm.json" 2>"$tmp/err"; then
	if python3 - "$tmp/vm.json" >"$tmp/err" 2>&1 <<'PY'
import ast, builtins, json, sys
d = json.load(open(sys.argv[1]))
tree = ast.parse(d["script"], "testScript")
driver = {"start_all", "subtest", "machines", "driver", "join_all", "retry",
          "serial_stdout_on", "serial_stdout_off", "polling_condition", "vlans", "t"}
defined = set(d["nodes"]) | driver | set(dir(builtins))
for node in ast.walk(tree):
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        defined.add(node.name)
    elif isinstance(node, ast.Import):
        defined.update(a.asname or a.name.split(".")[0] for a in node.names)
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        defined.add(node.id)
    elif isinstance(node, ast.arg):
        defined.add(node.arg)
bad = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - defined)
if bad:
    sys.exit("undefined names: " + ", ".join(bad))
PY
	then
		t_pass "tests/nixos/vm-test.nix: the test script compiles and uses only its nodes and driver names"
	else
		t_fail "tests/nixos/vm-test.nix: the test script compiles and uses only its nodes and driver names"
		sed 's/^/  /' "$tmp/err"
	fi
else
	t_fail "tests/nixos/vm-test.nix evaluates (nodes and test script)"
	sed 's/^/  /' "$tmp/err"
fi

# ---- 5b. The VM test's probe (it decides what a negative check means):
# run here against stub tools, it exits 10 only when the tool ran and gave
# the negative the test looks for, never for a missing or failing tool.
probe_expr="let
  lib = {
    mkForce = x: x;
    recursiveUpdate = a: b: a // builtins.mapAttrs (n: v:
      if builtins.isAttrs v && a ? \${n} && builtins.isAttrs a.\${n} then lib.recursiveUpdate a.\${n} v else v) b;
  };
  pkgs = { writeShellScript = name: text: text; curl = null; dig = null; getent = null; gnugrep = null; };
  host = (import $here/vm-test.nix { module = null; }).nodes.host { inherit lib pkgs; config = { }; };
in host.systemd.services.probe.serviceConfig.ExecStart"
if nix_json "$probe_expr" >"$tmp/probe.json" 2>"$tmp/err" &&
	python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin))' <"$tmp/probe.json" |
	sed "s|/run/probe/cmd|$tmp/probe/cmd|" >"$tmp/probe.sh" && grep -q "$tmp/probe/cmd" "$tmp/probe.sh"; then
	mkdir -p "$tmp/probe/bin"
	ln -s "$(command -v grep)" "$tmp/probe/bin/grep"
	# probe_case WANT TOOL STATUS OUTPUT MODE ARGS...: with TOOL a stub that
	# prints OUTPUT and exits STATUS (TOOL "-": none at all).
	probe_case() {
		local want=$1 tool=$2 status=$3 output=$4 got
		shift 4
		rm -f "$tmp/probe/bin/curl" "$tmp/probe/bin/dig" "$tmp/probe/bin/getent"
		if [ "$tool" != - ]; then
			printf '#!%s\nprintf %%s %q\nexit %s\n' "$BASH" "$output" "$status" >"$tmp/probe/bin/$tool"
			chmod +x "$tmp/probe/bin/$tool"
		fi
		echo "$*" >"$tmp/probe/cmd"
		PATH=$tmp/probe/bin "$BASH" "$tmp/probe.sh" >/dev/null 2>&1
		got=$?
		local with=" with $tool exiting $status${output:+ ($output)}"
		[ "$tool" = - ] && with=" with no $1 tool"
		case $1 in exists | unknown) with= ;; esac
		t_check "vm-test probe: ${*//$tmp/TMP}$with: exit $want" [ "$got" = "$want" ]
	}
	probe_case 0 curl 0 "" http http://x/
	probe_case 10 curl 7 "" http http://x/
	probe_case 10 curl 28 "" http http://x/
	probe_case 3 curl 22 "" http http://x/
	probe_case 3 - 0 "" http http://x/
	probe_case 0 dig 0 10.66.0.99 dig 10.66.0.1 vpn-only.test
	probe_case 10 dig 9 "" dig 10.66.0.1 vpn-only.test
	probe_case 3 dig 0 "" dig 10.66.0.1 vpn-only.test
	probe_case 3 - 0 "" dig 10.66.0.1 vpn-only.test
	probe_case 0 getent 0 "10.66.0.99 vpn-only.test" getent vpn-only.test 10.66.0.99
	probe_case 10 getent 2 "" getent lan-only.test 192.168.1.99
	probe_case 3 getent 0 "10.66.0.98 vpn-only.test" getent vpn-only.test 10.66.0.99
	probe_case 3 - 0 "" getent vpn-only.test 10.66.0.99
	probe_case 0 - 0 "" exists "$tmp/probe"
	probe_case 10 - 0 "" exists "$tmp/probe/none"
	probe_case 2 - 0 "" unknown x
else
	t_fail "tests/nixos/vm-test.nix: the probe script can be read from the host node"
	sed 's/^/  /' "$tmp/err"
fi

# ---- 6. The README's Nix snippets.
if [ -f "$readme" ]; then
	mkdir -p "$tmp/readme"
	python3 -c '
import os, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"^```nix[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.S | re.M)
for i, b in enumerate(blocks, 1):
    with open(os.path.join(sys.argv[2], "snippet-%02d.nix" % i), "w") as f:
        f.write(b)
' "$readme" "$tmp/readme"
	n=$(find "$tmp/readme" -name 'snippet-*.nix' | wc -l)
	t_check "${readme#"$top"/} has \`\`\`nix blocks ($n)" [ "$n" -gt 0 ]
	for s in "$tmp/readme"/snippet-*.nix; do
		[ -e "$s" ] || continue
		label="README snippet $(basename "$s" .nix | sed 's/snippet-//') ($(grep -m1 "[A-Za-z]" "$s" | cut -c1-50))"
		if ! nixi --parse "$s" >/dev/null 2>"$tmp/err"; then
			t_fail "$label parses"
			sed 's/^/  /' "$tmp/err"
			continue
		fi
		t_pass "$label parses"
		# A snippet that configures vpnNamespaces must render and pass the
		# assertions, as written.
		has_ns=$(nix_json "let m = import $s; v = if builtins.isFunction m then m { lib = {}; pkgs = {}; config = {}; } else m; in builtins.isAttrs v && v ? vpnNamespaces" 2>/dev/null)
		if [ "$has_ns" = true ]; then
			if nix_json "$(render_expr "$s")" >"$tmp/json" 2>"$tmp/err" &&
				python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(1 if d["problems"] or not d["files"] else 0)' <"$tmp/json"; then
				t_pass "$label renders an ini and passes the assertions"
			else
				t_fail "$label renders an ini and passes the assertions"
				{ cat "$tmp/err" "$tmp/json"; echo; } | sed 's/^/  /'
			fi
		fi
	done
	for marker in "$cases_dir"/*/readme; do
		[ -e "$marker" ] && [ "$n" -gt 0 ] || continue
		case_dir=$(dirname "$marker")
		found=no
		for s in "$tmp/readme"/snippet-*.nix; do
			cmp -s "$s" "$case_dir/config.nix" && found=yes
		done
		t_check "README shows tests/nixos/cases/$(basename "$case_dir")/config.nix verbatim" test $found = yes
	done
else
	echo "# no $readme yet: README snippets not checked"
fi

# ---- 7. Nix -> ini -> generator, and the hardening list.
gen=$BUILD/vpn-confinement-generator
if [ -x "$gen" ]; then
	for case_dir in "$cases_dir"/*/; do
		case_dir=${case_dir%/}
		case_name=$(basename "$case_dir")
		out=$tmp/gen/$case_name
		mkdir -p "$out/normal" "$out/early" "$out/late"
		if VPN_CONFINEMENT_CONFDIR=$case_dir/expected VPN_CONFINEMENT_RUNDIR=$tmp/run \
			SYSTEMD_LOG_TARGET=console "$gen" "$out/normal" "$out/early" "$out/late" >"$tmp/err" 2>&1; then
			t_pass "$case_name: the generator accepts the golden ini files"
		else
			t_fail "$case_name: the generator accepts the golden ini files"
			sed 's/^/  /' "$tmp/err"
			continue
		fi
		for ini in "$case_dir"/expected/*.ini; do
			ns=$(basename "$ini" .ini)
			for unit in $(sed -n 's/^Unit=//p' "$ini"); do
				t_check "$case_name: $unit is confined to /run/netns/$ns" \
					grep -qx "NetworkNamespacePath=/run/netns/$ns" "$out/normal/$unit.d/50-vpn-confinement.conf"
			done
		done
	done

	# The same namespace with Hardening=yes and =no: the generator's extra
	# lines are its hardening list, which the module must apply as well.
	mkdir -p "$tmp/hard/yes" "$tmp/hard/no" "$tmp/hard/conf"
	sed 's/^Hardening=no$/Hardening=yes/' "$cases_dir/basic/expected/wg.ini" >"$tmp/hard/yes/wg.ini"
	cp "$cases_dir/basic/expected/wg.ini" "$tmp/hard/no/wg.ini"
	# One configuration directory and one output path for both runs: paths
	# into them (the drop-in hides the configuration directory) must compare
	# equal.
	for h in yes no; do
		mkdir -p "$tmp/hard/out"
		cp "$tmp/hard/$h/wg.ini" "$tmp/hard/conf/wg.ini"
		VPN_CONFINEMENT_CONFDIR=$tmp/hard/conf VPN_CONFINEMENT_RUNDIR=$tmp/run \
			"$gen" "$tmp/hard/out" "$tmp/hard/out" "$tmp/hard/out" >/dev/null 2>&1
		mv "$tmp/hard/out" "$tmp/hard/out-$h"
	done
	# Lines only the Hardening=yes drop-in has, without comments, as
	# "Key=value" with booleans normalized.
	normalize() {
		python3 -c '
import sys
yes = {"yes", "true", "on", "1"}
no = {"no", "false", "off", "0"}
for line in sys.stdin:
    line = line.strip()
    if not line or line[0] in "#;" or "=" not in line:
        continue
    k, v = line.split("=", 1)
    v = "true" if v in yes else "false" if v in no else v
    print(k + "=" + v)
' | sort
	}
	dropin=transmission.service.d/50-vpn-confinement.conf
	if [ -f "$tmp/hard/out-yes/$dropin" ] && [ -f "$tmp/hard/out-no/$dropin" ]; then
		comm -23 <(normalize <"$tmp/hard/out-yes/$dropin") <(normalize <"$tmp/hard/out-no/$dropin") >"$tmp/hard/generator"
		nix_json "import $top/nixos/hardening.nix" | python3 -c '
import json, sys
for k, v in json.load(sys.stdin).items():
    if isinstance(v, bool):
        v = "true" if v else "false"
    elif isinstance(v, list):
        v = " ".join(v)
    print("%s=%s" % (k, v))
' | sort >"$tmp/hard/module"
		if [ -s "$tmp/hard/generator" ] && diff -u "$tmp/hard/generator" "$tmp/hard/module" >"$tmp/diff"; then
			t_pass "nixos/hardening.nix equals the generator's Hardening=yes settings ($(wc -l <"$tmp/hard/module") settings)"
		else
			t_fail "nixos/hardening.nix equals the generator's Hardening=yes settings"
			echo "  --- generator (Hardening=yes minus Hardening=no), +++ nixos/hardening.nix"
			sed 's/^/  /' "$tmp/diff"
		fi
	else
		t_fail "the generator writes $dropin for Hardening=yes and =no"
	fi
else
	echo "# $gen not built: the Nix -> ini -> generator chain is not checked"
fi

t_done
