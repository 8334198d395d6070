#!/usr/bin/env python3
# Reduce wg(8) setconf text to its set of settings, with wg(8)'s own reading
# rules: text after '#' is dropped, all whitespace inside a line is removed,
# key names are case-insensitive, repeated AllowedIPs add up. Values are put
# in one canonical form (addresses through ipaddress, "off" as 0, hex
# numbers as decimal), so two texts that make wg configure the same thing
# print the same. One section per paragraph: [Interface] first, then the
# peers sorted (wg identifies a peer by its key, not by its place).
import ipaddress
import sys


def canon_ip(text):
    return str(ipaddress.ip_address(text))


def canon_value(key, value):
    if key in ("listenport", "persistentkeepalive"):
        return str(0 if value.lower() == "off" else int(value, 10))
    if key == "fwmark":
        if value.lower() == "off":
            return "0"
        return str(int(value, 16) if value.startswith("0x") else int(value, 10))
    if key == "endpoint":
        if value.startswith("["):
            host, port = value[1:].split("]:", 1)
            return "[%s]:%d" % (canon_ip(host), int(port))
        host, port = value.rsplit(":", 1)
        try:
            host = canon_ip(host)
        except ValueError:
            host = host.lower()
        return "%s:%d" % (host, int(port))
    return value


def sections(text):
    out = []
    for raw in text.splitlines():
        line = "".join(raw.split("#", 1)[0].split())
        if not line:
            continue
        if line.startswith("["):
            out.append([line.lower()])
            continue
        key, value = line.split("=", 1)
        key = key.lower()
        if key == "allowedips":
            for entry in value.split(","):
                if entry:
                    out[-1].append("allowedips=" + str(ipaddress.ip_interface(entry)))
            continue
        out[-1].append(key + "=" + canon_value(key, value))
    return out


def main():
    blocks = []
    for section in sections(open(sys.argv[1], encoding="utf-8").read()):
        blocks.append("\n".join([section[0]] + sorted(set(section[1:]))) + "\n")
    interface = [b for b in blocks if b.startswith("[interface]")]
    peers = sorted(b for b in blocks if not b.startswith("[interface]"))
    print("\n".join(interface + peers), end="")


main()
