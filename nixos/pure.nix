# SPDX-License-Identifier: MIT
# The module's logic without the module system: from vpnNamespaces and
# systemd.services values to ini files and assertion messages. Builtins only.
#
# module.nix feeds it option values (defaults already applied by the module
# system); tests/nixos/check-nix.sh feeds it plain example configurations,
# after `withDefaults` applies the same defaults (from defaults.nix).
let
  inherit (builtins)
    attrNames
    filter
    isFunction
    listToAttrs
    mapAttrs
    ;
  defaults = import ./defaults.nix;
  renderIni = import ./render-ini.nix;
  checks = import ./assertions.nix;
in
rec {
  inherit renderIni checks;
  hardening = import ./hardening.nix;

  # Option defaults for a plain attrset namespace definition.
  withDefaults =
    ns:
    {
      inherit (defaults)
        enable
        accessibleFrom
        portMappings
        openVPNPorts
        namespaceAddress
        bridgeAddress
        namespaceAddressIPv6
        bridgeAddressIPv6
        ;
    }
    // ns
    // {
      portMappings = map (m: { protocol = defaults.protocol; } // m) (ns.portMappings or [ ]);
      openVPNPorts = map (p: { protocol = defaults.protocol; } // p) (ns.openVPNPorts or [ ]);
    };

  # Names of the services confined in namespace `name`.
  servicesIn =
    services: name:
    filter (
      s:
      let
        vc = services.${s}.vpnConfinement or { };
      in
      (vc.enable or false) && (vc.vpnNamespace or null) == name
    ) (attrNames services);

  # { "<name>.ini" = text; } for every enabled namespace.
  iniFiles =
    { namespaces, services }:
    listToAttrs (
      map (name: {
        name = "${name}.ini";
        value = renderIni {
          inherit name;
          namespace = namespaces.${name};
          services = servicesIn services name;
        };
      }) (filter (name: namespaces.${name}.enable) (attrNames namespaces))
    );

  problems = checks.problems;

  # An example configuration: a NixOS module (attrset or function) that sets
  # vpnNamespaces and systemd.services.*.vpnConfinement. Only those are read,
  # and they must not depend on pkgs or config; lib is a stub with the few
  # priority helpers a configuration uses on them.
  evalConfig =
    module:
    let
      stubLib = {
        mkDefault = x: x;
        mkForce = x: x;
        mkOverride = _: x: x;
        mkIf = cond: x: if cond then x else { };
      };
      unavailable =
        what: throw "vpn-confinement tests: an example configuration may not use ${what} in vpnNamespaces or vpnConfinement";
      value =
        if isFunction module then
          module {
            lib = stubLib;
            pkgs = unavailable "pkgs";
            config = unavailable "config";
            options = unavailable "options";
          }
        else
          module;
      rawServices = value.systemd.services or { };
    in
    {
      namespaces = mapAttrs (_: withDefaults) (value.vpnNamespaces or { });
      services = mapAttrs (
        _: s:
        s
        // {
          vpnConfinement = {
            enable = false;
            vpnNamespace = null;
          } // (s.vpnConfinement or { });
        }
      ) rawServices;
    };
}
