# SPDX-License-Identifier: MIT
# The options and the ini format agree: every option declared in
# nixos/options.nix is set (to a non-default value) by the all-options
# example, and the rendered ini has the key that option maps to. A new
# option without a key in the renderer (or in the table below) fails here.
#
# options.nix is evaluated with a stub of nixpkgs' lib that records what
# is declared, so no nixpkgs is needed.
let
  inherit (builtins)
    attrNames
    concatStringsSep
    filter
    map
    match
    ;
  pure = import ../../nixos/pure.nix;
  defaults = import ../../nixos/defaults.nix;

  stubType = description: { inherit description; };
  types = {
    bool = stubType "bool";
    str = stubType "str";
    path = stubType "path";
    port = stubType "port";
    enum = values: stubType "enum" // { inherit values; };
    ints.between = lo: hi: stubType "int ${toString lo}-${toString hi}";
    listOf = t: stubType "list" // { elem = t; };
    attrsOf = t: stubType "attrs" // { elem = t; };
    nullOr = t: t // { nullable = true; };
    either = a: b: stubType "either" // { alternatives = [ a b ]; };
    coercedTo = from: f: to: to;
    submodule = m: stubType "submodule" // { module = m; };
  };
  lib = {
    inherit types;
    mkOption = o: o // { isOption = true; };
  };
  declared = (import ../../nixos/options.nix { inherit lib; }).options;
  submoduleOptions = t: (if builtins.isFunction t.module then t.module { name = "NAME"; } else t.module).options;

  namespaceOptions = submoduleOptions declared.vpnNamespaces.type.elem;
  serviceOptions = (submoduleOptions declared.systemd.services.type.elem).vpnConfinement;

  # Option -> the ini line that shows it ("Key=" prefix, or a whole line).
  # enable is shown by the file existing at all.
  iniKey = {
    enable = "[Namespace]";
    wireguardConfigFile = "WireGuardConfigFile=";
    wireguardConfigFiles = "WireGuardConfigFile=/var/lib/secrets/all-options-2.conf";
    health = "HealthCheckTimeout=";
    accessibleFrom = "AccessibleFrom=";
    portMappings = "PortMapping=";
    openVPNPorts = "OpenVPNPort=";
    allowedEgress = "AllowedEgress=";
    namespaceAddress = "NamespaceAddress=";
    bridgeAddress = "BridgeAddress=";
    namespaceAddressIPv6 = "NamespaceAddressIPv6=";
    bridgeAddressIPv6 = "BridgeAddressIPv6=";
    portForwarding = "PortForwarding=";
    # systemd.services.<name>.vpnConfinement
    "vpnConfinement.enable" = "Unit=";
    "vpnConfinement.vpnNamespace" = "Unit=";
  };
  # Sub-options of list entries -> the ini value part that shows them.
  subKey = {
    portMappings = {
      from = "PortMapping=8080:";
      to = "PortMapping=8080:80:";
      protocol = "PortMapping=5353:53:udp";
    };
    openVPNPorts = {
      port = "OpenVPNPort=51413:";
      protocol = "OpenVPNPort=6771:udp";
    };
    health = {
      timeout = "HealthCheckTimeout=1min 30s";
      failoverAfter = "FailoverAfter=3";
      failbackAfter = "FailbackAfter=2h";
      address = "HealthCheckAddress=10.64.0.1";
    };
    # A submodule of its own, not a list.
    portForwarding = {
      enable = "PortForwarding=natpmp";
      gateway = "PortForwardingGateway=10.2.0.1";
      hook = "PortForwardingHook=\"/etc/vpn-confinement/hook\"";
    };
  };

  example = pure.evalConfig (import ./cases/all-options/config.nix);
  ini = (pure.iniFiles example)."all.ini";
  iniLines = filter builtins.isString (builtins.split "\n" ini);
  hasLineStarting = prefix: builtins.any (l: builtins.substring 0 (builtins.stringLength prefix) l == prefix) iniLines;
  ns = example.namespaces.all;

  nonDefault = opt: (defaults ? ${opt}) -> ns.${opt} != defaults.${opt};

  checkOption =
    opt:
    [
      {
        name = "option vpnNamespaces.<name>.${opt} has an ini key";
        ok = iniKey ? ${opt};
        detail = "add it to render-ini.nix and to iniKey in tests/nixos/options-test.nix";
      }
      {
        name = "the all-options example sets ${opt} to a non-default value";
        ok = (import ./cases/all-options/config.nix).vpnNamespaces.all ? ${opt} && nonDefault opt;
        detail = "set it in tests/nixos/cases/all-options/config.nix";
      }
      {
        name = "all.ini shows ${opt} (${iniKey.${opt} or "?"})";
        ok = iniKey ? ${opt} && hasLineStarting iniKey.${opt};
        detail = "all.ini:\n${ini}";
      }
    ]
    ++ (
      if subKey ? ${opt} then
        map (sub: {
          name = "all.ini shows ${opt}.*.${sub} (${subKey.${opt}.${sub} or "?"})";
          ok = subKey.${opt} ? ${sub} && hasLineStarting subKey.${opt}.${sub};
          detail = "add ${opt}.${sub} to subKey in tests/nixos/options-test.nix; all.ini:\n${ini}";
        }) (attrNames (submoduleOptions (namespaceOptions.${opt}.type.elem or namespaceOptions.${opt}.type)))
      else
        [ ]
    );

  checkServiceOption = opt: {
    name = "option systemd.services.<name>.vpnConfinement.${opt} shows in the ini (${iniKey."vpnConfinement.${opt}" or "?"})";
    ok = iniKey ? "vpnConfinement.${opt}" && hasLineStarting "Unit=everything.service";
    detail = "all.ini:\n${ini}";
  };

  # The declared defaults are the ones the renderer's test harness uses.
  checkDefault = opt: {
    name = "option ${opt} defaults to defaults.nix's value";
    ok = !(namespaceOptions.${opt} ? default) || namespaceOptions.${opt}.default == defaults.${opt};
    detail = "options.nix and defaults.nix disagree";
  };
in
builtins.concatLists (map checkOption (attrNames namespaceOptions))
++ map checkServiceOption (attrNames serviceOptions)
++ map checkDefault (attrNames namespaceOptions)
++ [
  {
    name = "the options are exactly the documented ones";
    ok =
      attrNames namespaceOptions == [
        "accessibleFrom"
        "allowedEgress"
        "bridgeAddress"
        "bridgeAddressIPv6"
        "enable"
        "health"
        "namespaceAddress"
        "namespaceAddressIPv6"
        "openVPNPorts"
        "portForwarding"
        "portMappings"
        "wireguardConfigFile"
        "wireguardConfigFiles"
      ]
      && attrNames serviceOptions == [
        "enable"
        "vpnNamespace"
      ];
    detail = "declared: ${concatStringsSep " " (attrNames namespaceOptions)}; vpnConfinement: ${concatStringsSep " " (attrNames serviceOptions)}";
  }
]
