# SPDX-License-Identifier: MIT
# The vpn-confinement NixOS module.
#
# It does not build units itself: it writes /etc/vpn-confinement/<name>.ini
# for every enabled namespace (with the services confined in it) and lets the
# same generator and unit templates as on any other distribution do the rest
# (vpn-confinement-generator(8), vpn-confinement.ini(5)). What only the
# module does: the hardening list as overridable NixOS defaults (the ini
# says Hardening=no), restarts on `nixos-rebuild switch`, and build-time
# assertions.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.vpnNamespaces;
  pure = import ./pure.nix;

  package = pkgs.vpn-confinement or (pkgs.callPackage ./package.nix { });

  enabled = lib.filterAttrs (_: ns: ns.enable) cfg;
  # Only the vpnConfinement part of each service is read here, so this does
  # not depend on what the module itself adds to confined services.
  confinement = lib.mapAttrs (_: s: { inherit (s) vpnConfinement; }) config.systemd.services;

  iniFiles = pure.iniFiles {
    namespaces = cfg;
    services = confinement;
  };
  # Between mkDefault (1000) and option defaults (1500).
  hardeningPriority = 1250;
  # A short stand-in for the ini text in restartTriggers: it changes exactly
  # when the file does.
  iniHash = name: builtins.hashString "sha256" (iniFiles."${name}.ini" or "");
in
{
  imports = [ ./options.nix ];

  # Confined services: the hardening list, and a restart when their
  # namespace's ini changes (the generator rewrites their drop-in from it).
  # The hardening is weaker than mkDefault (1000): a plain
  # `serviceConfig.ProtectHome = false;` wins, and so does the service
  # module's own choice, even a mkDefault one, instead of conflicting with it.
  options.systemd.services = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule (
        { config, ... }:
        let
          ns = config.vpnConfinement.vpnNamespace;
        in
        {
          config = lib.mkIf config.vpnConfinement.enable {
            serviceConfig = lib.mapAttrs (_: lib.mkOverride hardeningPriority) pure.hardening;
            restartTriggers = [ (if ns == null then "" else iniHash ns) ];
          };
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
    (lib.mkIf (enabled != { }) {
      warnings =
        lib.optional (config.networking.nftables.enable && (config.networking.nftables.flushRuleset or true))
          (
            "vpn-confinement: networking.nftables.flushRuleset is on, so every reload of "
            + "nftables.service (e.g. on nixos-rebuild switch) deletes the host tables "
            + "\"inet vpn-confinement-<name>\" (port mappings and the host-side guard) until "
            + "vpn-ns@<name> restarts. Set networking.nftables.flushRuleset = false."
          );

      environment.etc = lib.mapAttrs' (
        file: text: lib.nameValuePair "vpn-confinement/${file}" { inherit text; }
      ) iniFiles;

      environment.systemPackages = [ package ];
      # The templates netns@, wg-up@ and vpn-ns@.service.
      systemd.packages = [ package ];
      systemd.generators.vpn-confinement-generator = "${package}/lib/systemd/system-generators/vpn-confinement-generator";

      # Drop-ins for the namespace instances (the units themselves come
      # from the templates).
      systemd.services = lib.mkMerge [
        # Start with the system; restart on switch when the ini changed.
        (lib.mapAttrs' (
          name: _:
          lib.nameValuePair "vpn-ns@${name}" {
            overrideStrategy = "asDropin";
            wantedBy = [ "multi-user.target" ];
            restartTriggers = [ (iniHash name) ];
          }
        ) enabled)
        # netns-up enables forwarding on the interfaces that route to
        # accessibleFrom, so those routes must exist when it runs: wait
        # for the network to be configured (a DHCP lease included).
        (lib.mapAttrs' (
          name: _:
          lib.nameValuePair "netns@${name}" {
            overrideStrategy = "asDropin";
            wants = [ "network-online.target" ];
            after = [ "network-online.target" ];
          }
        ) (lib.filterAttrs (_: ns: ns.accessibleFrom != [ ]) enabled))
      ];

      # No host-wide sysctls: netns-up enables forwarding only on the bridge and
      # the interfaces that lead to accessibleFrom, and restores it on
      # netns-down (vpn-confinement(8)).
    })
  ];
}
