# SPDX-License-Identifier: MIT
# The vpn-confinement NixOS module.
#
# It does not build units itself: it writes /etc/vpn-confinement/<name>.ini
# for every enabled namespace (with the services confined in it) and lets the
# same generator and unit templates as on any other distribution do the rest
# (vpn-confinement-generator(8), vpn-confinement.ini(5)). What only the
# module does: the hardening list as overridable NixOS defaults (the ini
# says Hardening=no), restarts on `nixos-rebuild switch`, keeping the host's
# DHCP client and network managers off the namespaces' links, and
# build-time assertions. The decisions are pure functions in pure.nix, which
# tests/nixos/ checks with builtins only; this file applies them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.vpnNamespaces;
  metricsCfg = config.services.vpnConfinement.metrics;
  pure = import ./pure.nix;

  package = config.vpnConfinement.package;

  enabledNames = lib.attrNames (lib.filterAttrs (_: ns: ns.enable) cfg);
  # Only the vpnConfinement part of each service is read here, so this does
  # not depend on what the module itself adds to services.
  state = {
    namespaces = cfg;
    services = lib.mapAttrs (_: s: { inherit (s) vpnConfinement; }) config.systemd.services;
  };
  iniFiles = pure.iniFiles state;
  restartTriggers = pure.restartTriggers state;

  # Between mkDefault (1000) and an option's default (1500): a plain
  # `serviceConfig.ProtectHome = false;` (100) wins, and so does the
  # service's own module when it sets the same option with mkDefault,
  # instead of conflicting with it.
  hardeningPriority = 1250;
in
{
  imports = [ ./options.nix ];

  # Here rather than in options.nix, which has no pkgs.
  options.vpnConfinement.package = lib.mkOption {
    type = lib.types.package;
    default = pkgs.vpn-confinement or (pkgs.callPackage ./package.nix { });
    defaultText = lib.literalExpression "pkgs.vpn-confinement or (pkgs.callPackage ./package.nix { })";
    description = ''
      The vpn-confinement package: the generator, the unit templates, the
      helper and the example port forwarding hooks
      (`share/vpn-confinement/examples/`, for
      `vpnNamespaces.<name>.portForwarding.hook`). Defaults to
      `pkgs.vpn-confinement` when an overlay provides it, else the one
      built from this module's source.
    '';
  };

  # Applied to every systemd.services entry that exists (it creates none).
  options.systemd.services = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule (
        { name, config, ... }:
        let
          strategy = pure.overrideStrategyFor {
            inherit name;
            confined = config.vpnConfinement.enable;
          };
        in
        {
          config = lib.mkMerge [
            (lib.mkIf config.vpnConfinement.enable {
              serviceConfig = lib.mapAttrs (_: lib.mkOverride hardeningPriority) pure.hardening;
            })
            # vpn-ns@N, wg-up@N, vpn-portfwd@N and the services confined in
            # N (pure.nix says when they change).
            (lib.mkIf (restartTriggers ? ${name}) {
              restartTriggers = restartTriggers.${name};
            })
            # A drop-in, not a unit that shadows the template.
            (lib.mkIf (strategy != null) {
              overrideStrategy = lib.mkDefault strategy;
            })
          ];
        }
      )
    );
  };

  config = lib.mkMerge [
    {
      # Outside the mkIf below: a service confined in a disabled namespace
      # must fail the build, not run unconfined.
      assertions = map (message: {
        assertion = false;
        message = "vpn-confinement: ${message}";
      }) (pure.problems {
        namespaces = cfg;
        services = config.systemd.services;
      });
    }
    (lib.mkIf (enabledNames != [ ]) {
      warnings = pure.nftablesWarnings {
        inherit (config.networking.nftables) enable;
        # nixpkgs before 23.11 has no such option, and its nftables.service
        # flushes the whole ruleset when it stops.
        flushRuleset = config.networking.nftables.flushRuleset or true;
      };

      environment.etc = lib.mapAttrs' (
        file: text: lib.nameValuePair "vpn-confinement/${file}" { inherit text; }
      ) iniFiles;

      environment.systemPackages = [ package ];
      # The templates netns@, wg-up@ and vpn-ns@.service.
      systemd.packages = [ package ];
      systemd.generators.vpn-confinement-generator = "${package}/lib/systemd/system-generators/vpn-confinement-generator";

      systemd.services = lib.mkMerge [
        # Start every namespace with the system (its drop-in gets the
        # restart triggers above; the unit itself is the template).
        (lib.genAttrs (map (n: "vpn-ns@${n}") enabledNames) (_: {
          wantedBy = [ "multi-user.target" ];
        }))
        # wg-up@N and vpn-portfwd@N: a drop-in for their own restart
        # triggers, so that a change only they read restarts them alone.
        # (Names from vpnNamespaces only: see pure.namespaceUnits.)
        (lib.genAttrs (pure.namespaceUnits cfg) (_: { }))
      ];

      # The bridge, the host end of the veth pair and the WireGuard
      # interface before it moves: no DHCP, no IPv4LL, no router
      # solicitation from the host's DHCP client (dhcpcd runs on every
      # interface it is not told to deny), not managed by NetworkManager or
      # systemd-networkd.
      networking.dhcpcd.denyInterfaces = pure.dhcpcdDenyInterfaces enabledNames;
      services.udev.extraRules = lib.mkIf config.networking.networkmanager.enable (
        pure.networkManagerUdevRules enabledNames
      );
      systemd.network.networks = lib.mkIf config.systemd.network.enable (
        pure.networkdUnmanaged enabledNames
      );

      # No host-wide sysctls: netns-up enables forwarding only on the bridge and
      # the interfaces that lead to accessibleFrom, and restores it on
      # netns-down (vpn-confinement(8)).
    })
    # services.vpnConfinement.metrics (metrics.nix decides).
    (lib.mkIf metricsCfg.enable (
      let
        m = pure.metrics.settings {
          metrics = metricsCfg;
          nodeExporterEnabled = config.services.prometheus.exporters.node.enable or false;
        };
      in
      {
        assertions = map (message: {
          assertion = false;
          message = "vpn-confinement: ${message}";
        }) (pure.metrics.problems metricsCfg);
        # The timer and its service come with the package (registered
        # above when a namespace is enabled).
        systemd.packages = lib.mkIf (enabledNames == [ ]) [ package ];
        systemd.timers.vpn-confinement-metrics = m.timer;
        systemd.services.vpn-confinement-metrics.environment = m.environment;
        systemd.tmpfiles.rules = m.tmpfiles;
        services.prometheus.exporters.node = lib.mkIf (m.nodeExporter != null) m.nodeExporter;
      }
    ))
  ];
}
