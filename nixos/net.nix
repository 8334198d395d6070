# SPDX-License-Identifier: MIT
# IPv4/IPv6 address and prefix arithmetic for the module's assertions.
# Pure: builtins only, so CI can evaluate it without nixpkgs.
#
# An address is a list of 16-bit groups (2 for IPv4, 8 for IPv6), which
# lets one set of prefix functions serve both families.
let
  inherit (builtins)

    any
    div
    elemAt
    filter
    foldl'
    fromJSON
    genList
    isString
    length
    match
    split
    stringLength
    substring
    ;

  pow2 = n: foldl' (acc: _: acc * 2) 1 (genList (x: x) n);

  # "0".."255" without leading zeros, as inet_pton(3) accepts them.
  octetRe = "(0|[1-9][0-9]{0,2})";
  parseIPv4 =
    s:
    let
      m = match "${octetRe}\\.${octetRe}\\.${octetRe}\\.${octetRe}" s;
      octets = if m == null then [ ] else map fromJSON m;
    in
    if m == null || any (o: o > 255) octets then
      null
    else
      [
        ((elemAt octets 0) * 256 + elemAt octets 1)
        ((elemAt octets 2) * 256 + elemAt octets 3)
      ];

  hexDigits = {
    "0" = 0;
    "1" = 1;
    "2" = 2;
    "3" = 3;
    "4" = 4;
    "5" = 5;
    "6" = 6;
    "7" = 7;
    "8" = 8;
    "9" = 9;
    "a" = 10;
    "b" = 11;
    "c" = 12;
    "d" = 13;
    "e" = 14;
    "f" = 15;
    "A" = 10;
    "B" = 11;
    "C" = 12;
    "D" = 13;
    "E" = 14;
    "F" = 15;
  };
  parseHexGroup =
    g:
    if match "[0-9a-fA-F]{1,4}" g == null then
      null
    else
      foldl' (acc: i: acc * 16 + hexDigits.${substring i 1 g}) 0 (genList (x: x) (stringLength g));
  # "a:b:c" -> [ a b c ], "" -> [ ]; null when any group is malformed.
  parseGroups =
    s:
    let
      groups = map parseHexGroup (filter isString (split ":" s));
    in
    if s == "" then
      [ ]
    else if any (g: g == null) groups then
      null
    else
      groups;

  # Hexadecimal groups with at most one "::"; no embedded IPv4 form.
  parseIPv6 =
    s:
    let
      halves = filter isString (split "::" s);
      left = parseGroups (elemAt halves 0);
      right = parseGroups (elemAt halves 1);
      full = parseGroups s;
    in
    if match "[0-9a-fA-F:]+" s == null then
      null
    else if length halves == 1 then
      (if full != null && length full == 8 then full else null)
    else if length halves != 2 || left == null || right == null then
      null
    else if length left + length right > 7 then
      null
    else
      left ++ genList (_: 0) (8 - length left - length right) ++ right;

  parseAddress =
    s:
    let
      v4 = parseIPv4 s;
      v6 = parseIPv6 s;
    in
    if !isString s then
      null
    else if v4 != null then
      {
        family = 4;
        groups = v4;
      }
    else if v6 != null then
      {
        family = 6;
        groups = v6;
      }
    else
      null;

  maxPrefix = family: if family == 4 then 32 else 128;

  # "addr" or "addr/len" -> { family, groups, prefix, hasPrefix } or null.
  # A bare address gets defaultPrefix (null: the family's full length).
  parsePrefixed =
    defaultPrefix: s:
    let
      m = if isString s then match "([^/]*)(/(0|[1-9][0-9]{0,2}))?" s else null;
      addr = if m == null then null else parseAddress (elemAt m 0);
      hasPrefix = m != null && elemAt m 2 != null;
      prefix =
        if hasPrefix then
          fromJSON (elemAt m 2)
        else if defaultPrefix != null then
          defaultPrefix.${toString addr.family}
        else
          maxPrefix addr.family;
    in
    if addr == null || prefix > maxPrefix addr.family then
      null
    else
      addr
      // {
        inherit prefix hasPrefix;
      };

  # Clears every bit past the first `prefix` bits.
  network =
    groups: prefix:
    genList (
      i:
      let
        keep = prefix - 16 * i;
        g = elemAt groups i;
      in
      if keep >= 16 then
        g
      else if keep <= 0 then
        0
      else
        (div g (pow2 (16 - keep))) * pow2 (16 - keep)
    ) (length groups);

  # Sets every bit past the first `prefix` bits (the IPv4 broadcast address).
  lastAddress =
    groups: prefix:
    genList (
      i:
      let
        keep = prefix - 16 * i;
        g = elemAt groups i;
        size = pow2 (16 - keep);
      in
      if keep >= 16 then
        g
      else if keep <= 0 then
        65535
      else
        (div g size) * size + size - 1
    ) (length groups);

  min = a: b: if a < b then a else b;
in
rec {
  inherit parseAddress;

  # For NamespaceAddress= and friends: bare addresses get the ini's default
  # prefix (/24, /64).
  parseHost = parsePrefixed {
    "4" = 24;
    "6" = 64;
  };
  # For AccessibleFrom=: a bare address is a single host.
  parseCidr = parsePrefixed null;

  isNetwork = n: network n.groups n.prefix == n.groups;
  isBroadcast = n: n.family == 4 && n.prefix < 31 && lastAddress n.groups n.prefix == n.groups;

  # Whether two parsed prefixes of the same family share any address.
  overlaps =
    a: b:
    a.family == b.family
    && (
      let
        p = min a.prefix b.prefix;
      in
      network a.groups p == network b.groups p
    );

  # Whether the addresses a and b lie in one subnet of a's prefix.
  sameSubnet = a: b: a.family == b.family && network a.groups a.prefix == network b.groups a.prefix;

  # The subnet in CIDR notation, for messages: IPv4 dotted, IPv6 as full
  # groups in lower-case hex (not compressed; unambiguous enough for a message).
  formatNetwork =
    n:
    let
      g = network n.groups n.prefix;
      hex =
        x:
        let
          digits = [
            "0"
            "1"
            "2"
            "3"
            "4"
            "5"
            "6"
            "7"
            "8"
            "9"
            "a"
            "b"
            "c"
            "d"
            "e"
            "f"
          ];
          go = v: if v < 16 then elemAt digits v else go (div v 16) + elemAt digits (v - 16 * div v 16);
        in
        go x;
      joined =
        if n.family == 4 then
          "${toString (div (elemAt g 0) 256)}.${toString (elemAt g 0 - 256 * div (elemAt g 0) 256)}.${toString (div (elemAt g 1) 256)}.${toString (elemAt g 1 - 256 * div (elemAt g 1) 256)}"
        else
          builtins.concatStringsSep ":" (map hex g);
    in
    "${joined}/${toString n.prefix}";

  # A transport protocol value shares traffic with another.
  protocolsOverlap = p: q: p == q || p == "both" || q == "both";

}
