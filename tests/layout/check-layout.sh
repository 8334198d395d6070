#!/bin/bash
# The helper's house keeps its shape (docs/ARCHITECTURE.md, "The helper's
# files"): files by noun in layers, arrows pointing down only.
#   commands  main.c, cmd-*.c, cli.c      arguments, exit codes, messages
#   domain    the namespace, the tunnel, its supervisor, the run directory,
#             the host forwarding, the rulesets, resolv.conf, status, checks,
#             metrics
#   system    netlink, rtnetlink, conntrack, nft, sysctl, processes, netns,
#             the wg tool, the systemd manager, log
#   model     wgconf.c (the wg-quick parser), common/ (both binaries)
# Fails on: a file of no layer; an include that points up; an include cycle;
# a cycle between object files by the symbols they use (the call graph at
# file level); a symbol of a cmd-*.c used by anything but main.c.
set -u
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { t_fail "python3 is there"; t_done; }
command -v nm >/dev/null || { t_fail "nm is there"; t_done; }
objdir=$BUILD/obj
[ -d "$objdir/helpers" ] || { t_fail "the helper is built in $objdir"; t_done; }

# Positive control: the same checks on a copy of the sources with an upward
# include (sysctl.c includes tunnel.h), a cycle (rundir.h includes
# hostfwd.h, which includes rundir.h), and made-up symbol tables with a call
# cycle, an upward call and a command's symbol used elsewhere: each check
# must fail there.
control=$(mktemp -d)
trap 'rm -rf "$control"' EXIT
cp -r "$T_TOP/common" "$T_TOP/helpers" "$T_TOP/generator" "$control/"
sed -i '1a #include "tunnel.h"' "$control/helpers/sysctl.c"
sed -i '1a #include "hostfwd.h"' "$control/helpers/rundir.h"

python3 - "$T_TOP" "$objdir" "$control" <<'PY'
import os, re, subprocess, sys

top, objdir, control = sys.argv[1], sys.argv[2], sys.argv[3]
LAYERS = {
    "model": 0, "system": 1, "domain": 2, "commands": 3,
}
HELPERS = {
    "system": ["netlink", "rtnl", "conntrack", "nft", "sysctl", "proc", "netns", "wgtool", "probe", "manager", "log",
               "seccomp", "creds", "mounts", "gateway"],
    "domain": ["rundir", "hostfwd", "ruleset", "resolv", "health", "tunnel", "supervisor", "namespace", "status",
               "checks", "metrics", "confine", "portmap", "hook", "portfwd"],
    "commands": ["main", "cli", "commands"],
    "model": ["wgconf", "egress"],
}
passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - " + what)

def stem(path):
    return os.path.splitext(path)[0]

def layer_of(node):
    d, name = node.split("/", 1)
    if d == "common":
        return "model"
    if d == "generator":
        return "generator"
    if name.startswith("cmd-"):
        return "commands"
    for layer, names in HELPERS.items():
        if name in names:
            return layer
    return None

def find_cycle(graph):
    color, stack = {}, []
    def visit(v):
        color[v] = 1
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if color.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in color:
                c = visit(w)
                if c:
                    return c
        stack.pop()
        color[v] = 2
        return None
    for v in sorted(graph):
        if v not in color:
            c = visit(v)
            if c:
                return c
    return None

def include_findings(top):
    """(unplaced files, upward includes, an include cycle or None)"""
    nodes, includes = set(), {}
    for d in ("common", "helpers", "generator"):
        for f in sorted(os.listdir(os.path.join(top, d))):
            if not f.endswith((".c", ".h")):
                continue
            node = d + "/" + stem(f)
            nodes.add(node)
            for line in open(os.path.join(top, d, f), encoding="utf-8"):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if m:
                    includes.setdefault(node, set()).add(stem(m.group(1)))
    def resolve(node, inc):
        d = node.split("/")[0]
        for cand in (d + "/" + inc, "common/" + inc):
            if cand in nodes:
                return cand
        return None
    unplaced = sorted(n for n in nodes if layer_of(n) is None)
    edges = {n: set() for n in nodes}
    up = []
    for n, incs in includes.items():
        for inc in incs:
            t = resolve(n, inc)
            if t is None or t == n:
                continue
            edges[n].add(t)
            ln, lt = layer_of(n), layer_of(t)
            if ln is None or lt is None:
                continue
            if ln == "generator":
                if lt not in ("model", "generator"):
                    up.append(f"{n} -> {t}")
            elif lt == "generator" or LAYERS[lt] > LAYERS[ln]:
                up.append(f"{n} -> {t} ({ln} includes {lt})")
    return unplaced, up, find_cycle(edges)

def symbol_tables(top, objdir):
    """What each object file defines and uses (objects of sources that exist)."""
    defined, undefined = {}, {}
    for d in ("common", "helpers", "generator"):
        p = os.path.join(objdir, d)
        for f in sorted(os.listdir(p)):
            if not f.endswith(".o") or not os.path.exists(os.path.join(top, d, stem(f) + ".c")):
                continue
            node = d + "/" + stem(f)
            out = subprocess.run(["nm", os.path.join(p, f)], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "TDBR":
                    defined.setdefault(parts[2], node)
                elif len(parts) == 2 and parts[0] == "U":
                    undefined.setdefault(node, set()).add(parts[1])
    return defined, undefined

def call_findings(defined, undefined):
    """(a call cycle or None, uses of a command's symbols, upward calls)"""
    calls = {}
    for n, syms in undefined.items():
        for s in syms:
            t = defined.get(s)
            if t and t != n:
                calls.setdefault(n, set()).add(t)
    bad = [f"{n} uses {s} of {defined[s]}" for n, syms in undefined.items() if n != "helpers/main"
           for s in sorted(syms) if defined.get(s, "").startswith("helpers/cmd-") and defined[s] != n]
    upcalls = []
    for n, ts in calls.items():
        for t in ts:
            ln, lt = layer_of(n), layer_of(t)
            if ln and lt and ln != "generator" and lt != "generator" and LAYERS[lt] > LAYERS[ln]:
                upcalls.append(f"{n} calls into {t}")
    return find_cycle(calls), bad, upcalls

unplaced, up, cyc = include_findings(top)
check(not unplaced, "every file has a layer" + (": not " + ", ".join(unplaced) if unplaced else ""))
check(not up, "no include points up" + ("".join("\n#   " + u for u in up)))
check(cyc is None, "no include cycle" + (": " + " -> ".join(cyc) if cyc else ""))
ccyc, bad, upcalls = call_findings(*symbol_tables(top, objdir))
check(ccyc is None, "no cycle between files by the functions they call" + (": " + " -> ".join(ccyc) if ccyc else ""))
check(not bad, "no file but main.c uses a command file's symbol" + ("".join("\n#   " + b for b in bad)))
check(not upcalls, "no call points up" + ("".join("\n#   " + u for u in upcalls)))

# The controls.
_, up, cyc = include_findings(control)
check(any("helpers/sysctl -> helpers/tunnel" in u for u in up), "control: an upward include is caught")
check(cyc is not None and "helpers/rundir" in cyc, "control: an include cycle is caught")
fake_defined = {"tunnel_up": "helpers/tunnel", "nft_apply": "helpers/nft", "cmd_wg_up": "helpers/cmd-wg"}
fake_undefined = {"helpers/tunnel": {"nft_apply"}, "helpers/nft": {"tunnel_up"}, "helpers/status": {"cmd_wg_up"}}
ccyc, bad, upcalls = call_findings(fake_defined, fake_undefined)
check(ccyc is not None, "control: a call cycle is caught")
check(bad == ["helpers/status uses cmd_wg_up of helpers/cmd-wg"], "control: a command's symbol used elsewhere is caught")
check(upcalls == ["helpers/nft calls into helpers/tunnel"] or "helpers/nft calls into helpers/tunnel" in upcalls,
      "control: an upward call is caught")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
