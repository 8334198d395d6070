# SPDX-License-Identifier: MIT
# The module's assertions as pure functions (builtins only), so CI can test
# them with nix-instantiate and no nixpkgs. Each *Problems function returns a
# list of messages, empty when all is well; `problems` runs them all.
#
# They mirror what vpn-confinement's ini parser rejects at boot (see
# vpn-confinement.ini(5)), so a mistake fails `nixos-rebuild` with a clear
# message instead of failing the namespace unit later.
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    elem
    elemAt
    filter
    fromJSON
    genList
    isString
    length
    match
    replaceStrings
    split
    storeDir
    stringLength
    substring
    toString
    ;
  net = import ./net.nix;

  concatMap = f: xs: concatLists (map f xs);
  optional = cond: msg: if cond then [ msg ] else [ ];
  quoted = s: "\"${toString s}\"";
  # All unordered pairs (i < j) of a list.
  pairs =
    xs:
    concatLists (
      genList (
        i:
        genList (k: {
          a = elemAt xs i;
          b = elemAt xs (i + 1 + k);
        }) (length xs - i - 1)
      ) (length xs)
    );
  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  truthy = v: elem v [ true 1 "1" "yes" "true" "on" ];

  opt = name: "vpnNamespaces.${name}";
in
rec {
  # Namespace names end up in interface names: "<name>-br" and "veth-<name>-br"
  # must fit the kernel's IFNAMSIZ (16 bytes with the NUL, so 15 characters).
  namespaceNameProblems =
    name:
    optional (match "[a-z][a-z0-9]{0,6}" name == null) (
      "${opt name}: the namespace name ${quoted name} is invalid: use 1 to 7 characters "
      + "from a-z and 0-9, starting with a letter. The name is part of the interface "
      + "names \"<name>-br\" and \"veth-<name>-br\", which must fit the kernel's limit "
      + "of 15 characters (IFNAMSIZ)."
    );

  # The private key lives in this file: it must stay out of the world-readable
  # Nix store, and it must be a plain absolute path the ini format accepts.
  wireguardConfigPathProblems =
    name: option: path:
    let
      p = toString path;
      segments = filter isString (split "/" p);
      badSegment =
        s:
        s == ""
        || s == "."
        || s == ".."
        || match "[!-~]+" s == null
        || replaceStrings [ "%" "\"" "'" "\\" ] [ "" "" "" "" ] s != s;
    in
    if hasPrefix "${storeDir}/" p || p == storeDir then
      [
        ("${opt name}.${option} = ${quoted p} is in the Nix store, which every "
        + "user can read: the WireGuard private key would leak. Give the path of a file "
        + "outside the store as a string, e.g. \"/run/secrets/wg0.conf\" (a Nix path "
        + "literal like ./wg0.conf is copied into the store).")
      ]
    else
      optional (!hasPrefix "/" p || length segments < 2 || concatMap (s: optional (badSegment s) s) (builtins.tail segments) != [ ]) (
        "${opt name}.${option} = ${quoted p} must be an absolute, normalized path "
        + "(no \"..\", \".\", \"//\" or trailing \"/\") of printable ASCII without spaces, "
        + "'%', quotes or backslashes."
      );
  wireguardConfigFileProblems = name: wireguardConfigPathProblems name "wireguardConfigFile";

  # wireguardConfigFiles: each as wireguardConfigFile, none given twice (the
  # ini refuses the same WireGuardConfigFile= twice).
  wireguardConfigFilesProblems =
    name: ns:
    let
      all = map toString ([ ns.wireguardConfigFile ] ++ ns.wireguardConfigFiles or [ ]);
    in
    concatMap (wireguardConfigPathProblems name "wireguardConfigFiles") (ns.wireguardConfigFiles or [ ])
    ++ concatMap (
      p: optional (p.a == p.b) "${opt name}.wireguardConfigFiles: ${quoted p.a} is given twice (with wireguardConfigFile too)."
    ) (pairs all);

  # A systemd time span (systemd.time(7)) in seconds, as the ini parser
  # reads it: "infinity" is -1 (no limit), anything else it refuses null.
  spanUnits = {
    "" = 1;
    s = 1;
    sec = 1;
    second = 1;
    seconds = 1;
    ms = 0.001;
    msec = 0.001;
    us = 0.000001;
    usec = 0.000001;
    m = 60;
    min = 60;
    minute = 60;
    minutes = 60;
    h = 3600;
    hr = 3600;
    hour = 3600;
    hours = 3600;
    d = 86400;
    day = 86400;
    days = 86400;
    w = 604800;
    week = 604800;
    weeks = 604800;
    M = 2629800;
    month = 2629800;
    months = 2629800;
    y = 31557600;
    year = 31557600;
    years = 31557600;
  };
  spanSeconds =
    s:
    let
      parts = split "([0-9]*[.]?[0-9]+)[ \t]*([a-zA-Z]*)" s;
      gaps = filter isString parts;
      comps = filter (x: !(isString x)) parts;
      number = t: fromJSON (if substring 0 1 t == "." then "0${t}" else t);
      valid =
        comps != [ ]
        && builtins.all (g: match "[ \t]*" g != null) gaps
        && builtins.all (c: spanUnits ? ${elemAt c 1} && match "([0-9]+([.][0-9]+)?|[.][0-9]+)" (elemAt c 0) != null) comps;
    in
    if !(isString s) then
      null
    else if match "[ \t]*infinity[ \t]*" s != null then
      -1
    else if !valid then
      null
    else
      builtins.foldl' (acc: c: acc + number (elemAt c 0) * spanUnits.${elemAt c 1}) 0 comps;

  # vpnNamespaces.<name>.health: spans of at least 10 s, an address reached
  # through the tunnel.
  healthProblems =
    name: ns:
    let
      h = ns.health or { };
      span =
        key: v:
        let
          secs = spanSeconds v;
        in
        if v == null then
          [ ]
        else if secs == null then
          [
            ("${opt name}.health.${key} = ${quoted v} is not a systemd time span "
            + "(such as \"30s\", \"2min\", \"1h 30min\" or \"infinity\"; see systemd.time(7)).")
          ]
        else
          optional (secs != -1 && secs < 10) "${opt name}.health.${key} = ${quoted v} is shorter than the minimum of 10 s.";
      address = h.address or null;
      parsed = if address == null then null else net.parseAddress address;
    in
    span "timeout" (h.timeout or null)
    ++ span "failbackAfter" (h.failbackAfter or null)
    ++ optional (address != null && parsed == null) "${opt name}.health.address = ${quoted address} is not an IPv4 or IPv6 address."
    ++ optional (
      parsed != null
      && builtins.any (
        r:
        let
          n = net.parseCidr r;
        in
        n != null && n.family == parsed.family && net.overlaps n (parsed // { prefix = if parsed.family == 4 then 32 else 128; })
      ) ns.accessibleFrom
    ) "${opt name}.health.address = ${quoted address} is in accessibleFrom, which is routed to the bridge: the probe must go through the tunnel.";

  # NamespaceAddress/BridgeAddress (and the IPv6 pair): valid host addresses
  # in one subnet, as the ini parser requires.
  addressPairProblems =
    {
      name,
      family,
      nsKey,
      bridgeKey,
      nsValue,
      bridgeValue,
    }:
    let
      familyName = if family == 4 then "IPv4" else "IPv6";
      minPrefix = if family == 4 then 8 else 16;
      maxPrefix = if family == 4 then 31 else 127;
      parse = v: if isString v then net.parseHost v else null;
      ns = parse nsValue;
      br = parse bridgeValue;
      one =
        key: value: n:
        if n == null || n.family != family then
          [ "${opt name}.${key} = ${quoted value} is not an ${familyName} address (optionally with /prefix)." ]
        else
          optional (n.prefix < minPrefix || n.prefix > maxPrefix)
            "${opt name}.${key} = ${quoted value}: the prefix length must be ${toString minPrefix} to ${toString maxPrefix}."
          ++ optional (n.prefix >= minPrefix && n.prefix < maxPrefix && net.isNetwork n)
            "${opt name}.${key} = ${quoted value} is the network address of its subnet."
          ++ optional (net.isBroadcast n) "${opt name}.${key} = ${quoted value} is the broadcast address of its subnet.";
      own = one nsKey nsValue ns ++ one bridgeKey bridgeValue br;
    in
    if own != [ ] then
      own
    else
      optional (ns.prefix != br.prefix)
        "${opt name}: ${bridgeKey} = ${quoted bridgeValue} and ${nsKey} = ${quoted nsValue} must have the same prefix length."
      ++ optional (ns.prefix == br.prefix && !net.sameSubnet ns br)
        "${opt name}: ${bridgeKey} = ${quoted bridgeValue} is not in the subnet ${net.formatNetwork ns} of ${nsKey}."
      ++ optional (ns.groups == br.groups)
        "${opt name}: ${bridgeKey} and ${nsKey} are the same address (${nsValue}); the bridge and the namespace each need their own.";

  addressProblems =
    name: ns:
    addressPairProblems {
      inherit name;
      family = 4;
      nsKey = "namespaceAddress";
      bridgeKey = "bridgeAddress";
      nsValue = ns.namespaceAddress;
      bridgeValue = ns.bridgeAddress;
    }
    ++ (
      if ns.namespaceAddressIPv6 == null && ns.bridgeAddressIPv6 == null then
        [ ]
      else if ns.namespaceAddressIPv6 == null || ns.bridgeAddressIPv6 == null then
        [ "${opt name}: set both namespaceAddressIPv6 and bridgeAddressIPv6, or neither." ]
      else
        addressPairProblems {
          inherit name;
          family = 6;
          nsKey = "namespaceAddressIPv6";
          bridgeKey = "bridgeAddressIPv6";
          nsValue = ns.namespaceAddressIPv6;
          bridgeValue = ns.bridgeAddressIPv6;
        }
    );

  accessibleFromProblems =
    name: ns:
    let
      parsed = map (v: {
        value = v;
        n = if isString v then net.parseCidr v else null;
      }) ns.accessibleFrom;
      valid = filter (e: e.n != null && net.isNetwork e.n) parsed;
    in
    concatMap (
      e:
      if e.n == null then
        [ "${opt name}.accessibleFrom: ${quoted e.value} is not an IPv4 or IPv6 address or CIDR prefix." ]
      else
        optional (!net.isNetwork e.n)
          "${opt name}.accessibleFrom: ${quoted e.value} has host bits set; the prefix is ${net.formatNetwork e.n}."
    ) parsed
    ++ concatMap (
      p: optional (net.overlaps p.a.n p.b.n) "${opt name}.accessibleFrom: ${quoted p.a.value} and ${quoted p.b.value} overlap."
    ) (pairs valid);

  # allowedEgress: the ini's AllowedEgress= grammar and rules
  # (vpn-confinement.ini(5)), all but the check against the WireGuard
  # config's DNS servers and endpoints, which only wg-up can do (the config
  # is a secret outside the store).
  #   DESTINATION[:PORT[:tcp|udp|both]], an IPv6 DESTINATION with a port
  #   in brackets: "[fd00::10]:8096:tcp".
  parseEgress =
    s:
    let
      bracketed = match "\\[([^]]*)](:(.*))?" s;
      colon = match "([^:]*):(.*)" s;
      v4 = if colon == null then null else net.parseCidr (elemAt colon 0);
      dest =
        if bracketed != null then
          elemAt bracketed 0
        else if v4 != null && v4.family == 4 then
          elemAt colon 0
        else
          s;
      rest =
        if bracketed != null then
          elemAt bracketed 2
        else if v4 != null && v4.family == 4 then
          elemAt colon 1
        else
          null;
      n = net.parseCidr dest;
      portMatch = if rest == null then null else match "(0|[1-9][0-9]{0,4})(:(tcp|udp|both))?" rest;
    in
    {
      inherit n;
      badSyntax = !isString s || (match "\\[.*" s != null && bracketed == null) || (rest != null && portMatch == null);
      badBrackets = bracketed != null && n != null && n.family != 6;
      port = if portMatch == null then 0 else builtins.fromJSON (elemAt portMatch 0);
      hasPort = rest != null;
      protocol = if portMatch == null || elemAt portMatch 2 == null then "tcp" else elemAt portMatch 2;
    };

  allowedEgressProblems =
    name: ns:
    let
      where = "${opt name}.allowedEgress";
      special = map net.parseCidr [
        "0.0.0.0/8"
        "127.0.0.0/8"
        "169.254.0.0/16"
        "224.0.0.0/3"
        "::/128"
        "::1/128"
        "::ffff:0:0/96"
        "fe80::/10"
        "ff00::/8"
      ];
      hostOf = v: if isString v then net.parseCidr (builtins.head (split "/" v)) else null;
      ns4 = hostOf ns.namespaceAddress;
      ns6 = if ns.namespaceAddressIPv6 == null then null else hostOf ns.namespaceAddressIPv6;
      parsed = map (v: { value = v; } // parseEgress v) (ns.allowedEgress or [ ]);
      one =
        e:
        let
          n = e.n;
          min = if n.family == 4 then 8 else 16;
        in
        if e.badSyntax || n == null then
          [
            ("${where}: ${quoted e.value} is not DESTINATION[:PORT[:tcp|udp|both]] with DESTINATION an IP address or "
            + "CIDR prefix (an IPv6 destination with a port in brackets: \"[fd00::10]:8096:tcp\").")
          ]
        else if e.badBrackets then
          [ "${where}: ${quoted e.value}: only an IPv6 destination is written in brackets." ]
        else
          optional (!net.isNetwork n) "${where}: ${quoted e.value} has host bits set; the prefix is ${net.formatNetwork n}."
          ++ optional (n.prefix < min)
            "${where}: ${quoted e.value} is wider than /${toString min}: it would send a large part of the internet around the tunnel."
          ++ optional (builtins.any (u: u != null && net.overlaps u n) special)
            "${where}: ${quoted e.value} is not a destination behind the bridge (loopback, link-local, multicast or reserved addresses)."
          ++ optional (e.hasPort && (e.port < 1 || e.port > 65535)) "${where}: ${quoted e.value}: the port must be 1 to 65535."
          ++ optional (e.hasPort && (e.port == 53 || e.port == 853))
            "${where}: ${quoted e.value}: port ${toString e.port} is DNS, which only ever goes to the VPN's DNS servers through the tunnel."
          ++ optional (n.family == 6 && ns6 == null)
            "${where}: ${quoted e.value} is IPv6: set namespaceAddressIPv6 and bridgeAddressIPv6 (the bridge is its way out)."
          ++ optional (n.family == 4 && ns4 != null && net.overlaps n ns4)
            "${where}: ${quoted e.value} contains the namespace's own address ${ns.namespaceAddress}."
          ++ optional (n.family == 6 && ns6 != null && net.overlaps n ns6)
            "${where}: ${quoted e.value} contains the namespace's own address ${ns.namespaceAddressIPv6}.";
      valid = filter (e: !e.badSyntax && !e.badBrackets && e.n != null && one e == [ ]) parsed;
      # The same kind twice (one nft set): every port, or one port and a
      # protocol in common, with networks that overlap.
      clash =
        a: b:
        net.overlaps a.n b.n
        && (
          if !a.hasPort || !b.hasPort then
            !a.hasPort && !b.hasPort
          else
            a.port == b.port && net.protocolsOverlap a.protocol b.protocol
        );
    in
    concatMap one parsed
    ++ concatMap (
      p: optional (clash p.a p.b) "${where}: ${quoted p.a.value} and ${quoted p.b.value} overlap."
    ) (pairs valid);

  # Open ports on the tunnel: the same port and protocol twice is an error in
  # the ini format.
  openVPNPortProblems =
    name: ns:
    concatMap (
      p:
      optional (p.a.port == p.b.port && net.protocolsOverlap p.a.protocol p.b.protocol)
        "${opt name}.openVPNPorts: port ${toString p.a.port} is opened twice (${p.a.protocol} and ${p.b.protocol})."
    ) (pairs ns.openVPNPorts);

  # portForwarding: what the ini parser refuses (vpn-confinement.ini(5)):
  # a gateway or hook without enable (they would do nothing), a gateway
  # that is no IPv4 address (NAT-PMP is IPv4 only), a hook without an
  # absolute program, a line break (one ini line).
  portForwardingProblems =
    name: ns:
    let
      pf = ns.portForwarding;
      where = "${opt name}.portForwarding";
      gw = if isString pf.gateway then net.parseHost pf.gateway else null;
      program =
        if builtins.isList pf.hook then
          (if pf.hook == [ ] then "" else builtins.head pf.hook)
        else if isString pf.hook then
          builtins.head (builtins.match "[ \t]*\"?([^ \t\"]*).*" pf.hook)
        else
          null;
      words = if builtins.isList pf.hook then pf.hook else if pf.hook == null then [ ] else [ pf.hook ];
    in
    optional (!pf.enable && pf.gateway != null) "${where}.gateway is set but portForwarding.enable is false."
    ++ optional (!pf.enable && pf.hook != null) "${where}.hook is set but portForwarding.enable is false."
    ++ optional (pf.gateway != null && (gw == null || gw.family != 4 || match "[0-9.]+" pf.gateway == null))
      "${where}.gateway = ${quoted pf.gateway} is not an IPv4 address (NAT-PMP is IPv4 only)."
    ++ optional (program != null && !hasPrefix "/" program)
      "${where}.hook: the program must be an absolute path, not ${quoted program}."
    ++ optional (builtins.any (w: match "[^\n\r]*" w == null) words) "${where}.hook contains a line break.";

  # namespaces: attrset of enabled namespaces (name -> option values).
  # No two may share a subnet (IPv4, or IPv6 where both have one).
  overlapProblems =
    namespaces:
    let
      entries = map (name: {
        inherit name;
        v4 = net.parseHost namespaces.${name}.namespaceAddress;
        v6 =
          let
            a = namespaces.${name}.namespaceAddressIPv6;
          in
          if a == null then null else net.parseHost a;
      }) (attrNames namespaces);
      check =
        family: p:
        let
          a = p.a.${family};
          b = p.b.${family};
        in
        optional (a != null && b != null && net.overlaps a b)
          "vpnNamespaces: namespaces ${quoted p.a.name} and ${quoted p.b.name} overlap: subnet ${net.formatNetwork a} and subnet ${net.formatNetwork b} share addresses. Give each namespace its own subnet (${
            if family == "v6" then "namespaceAddressIPv6, bridgeAddressIPv6" else "namespaceAddress, bridgeAddress"
          }).";
    in
    concatMap (p: check "v4" p ++ check "v6" p) (pairs entries);

  # namespaces: attrset of enabled namespaces. A host port (with a shared
  # protocol) can be forwarded to one place only.
  portMappingProblems =
    namespaces:
    let
      mappings = concatMap (
        name:
        map (m: {
          inherit name;
          inherit (m) from to protocol;
        }) namespaces.${name}.portMappings
      ) (attrNames namespaces);
    in
    concatMap (
      p:
      optional (p.a.from == p.b.from && net.protocolsOverlap p.a.protocol p.b.protocol) (
        "vpnNamespaces: host port ${toString p.a.from} is mapped twice: "
        + "${opt p.a.name}.portMappings (to ${toString p.a.to}, ${p.a.protocol}) and "
        + "${opt p.b.name}.portMappings (to ${toString p.b.to}, ${p.b.protocol})."
      )
    ) (pairs mappings);

  # A confined service: its namespace exists and is enabled, and the service
  # does not pick a network namespace of its own.
  #   service: { vpnConfinement = { enable; vpnNamespace; }; serviceConfig; unitConfig; }
  #   namespaces: every vpnNamespaces entry (enabled or not)
  serviceProblems =
    namespaces: svcName: service:
    let
      ns = service.vpnConfinement.vpnNamespace;
      where = "systemd.services.${svcName}";
      enabledNames = filter (n: namespaces.${n}.enable) (attrNames namespaces);
      enabledList =
        if enabledNames == [ ] then "none is enabled" else "enabled: ${concatStringsSep ", " enabledNames}";
      sc = service.serviceConfig or { };
      uc = service.unitConfig or { };
      conflict =
        key:
        "${where}: vpnConfinement is enabled, so the service must not also set ${key}: "
        + "vpn-confinement puts it in /run/netns/${toString ns} with NetworkNamespacePath=, "
        + "and ${key} would give it a different network.";
    in
    (
      if ns == null then
        [ "${where}.vpnConfinement.vpnNamespace is not set; name the namespace to confine the service in (${enabledList})." ]
      else if !(namespaces ? ${ns}) then
        [ "${where}.vpnConfinement.vpnNamespace = ${quoted ns}, but vpnNamespaces.${ns} is not defined (${enabledList})." ]
      else if !namespaces.${ns}.enable then
        [ "${where}.vpnConfinement.vpnNamespace = ${quoted ns}, but vpnNamespaces.${ns}.enable is false (${enabledList})." ]
      else
        [ ]
    )
    ++ optional (match "[a-zA-Z0-9:_.\\-]+(@[a-zA-Z0-9:_.\\-]+)?" svcName == null || stringLength svcName > 247)
      "${where}: ${quoted svcName} cannot be confined: the unit name must be a plain service name (letters, digits, \":_.-\", an optional \"@instance\", at most 247 characters)."
    ++ optional (sc ? PrivateNetwork && truthy sc.PrivateNetwork) (conflict "serviceConfig.PrivateNetwork")
    ++ optional (sc ? NetworkNamespacePath) (conflict "serviceConfig.NetworkNamespacePath")
    ++ optional (sc ? JoinsNamespaceOf) (conflict "serviceConfig.JoinsNamespaceOf")
    ++ optional (uc ? JoinsNamespaceOf) (conflict "unitConfig.JoinsNamespaceOf");

  # Everything: namespaces is vpnNamespaces (all entries, option values with
  # defaults), services is systemd.services (or just its confined entries).
  problems =
    { namespaces, services }:
    let
      enabled = builtins.listToAttrs (
        map (name: {
          inherit name;
          value = namespaces.${name};
        }) (filter (name: namespaces.${name}.enable) (attrNames namespaces))
      );
      perNamespace =
        name:
        let
          ns = enabled.${name};
          nameBad = namespaceNameProblems name;
        in
        nameBad
        ++ wireguardConfigFileProblems name ns.wireguardConfigFile
        ++ wireguardConfigFilesProblems name ns
        ++ healthProblems name ns
        ++ addressProblems name ns
        ++ accessibleFromProblems name ns
        ++ allowedEgressProblems name ns
        ++ openVPNPortProblems name ns
        ++ portForwardingProblems name ns;
      confined = filter (s: services.${s}.vpnConfinement.enable or false) (attrNames services);
      validEnabled = builtins.removeAttrs enabled (
        filter (n: addressProblems n enabled.${n} != [ ]) (attrNames enabled)
      );
    in
    concatMap perNamespace (attrNames enabled)
    ++ overlapProblems validEnabled
    ++ portMappingProblems enabled
    ++ concatMap (s: serviceProblems namespaces s services.${s}) confined;
}
