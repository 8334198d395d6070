# SPDX-License-Identifier: MIT
# The module's logic without the module system: from vpnNamespaces and
# systemd.services values to ini files, assertion messages, restart
# triggers, unit override strategies and the host's network managers'
# exceptions. Builtins only.
#
# module.nix feeds it option values (defaults already applied by the module
# system); tests/nixos/check-nix.sh feeds it plain example configurations,
# after `withDefaults` applies the same defaults (from defaults.nix).
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    foldl'
    hashString
    isFunction
    listToAttrs
    mapAttrs
    match
    sort
    split
    stringLength
    substring
    ;
  defaults = import ./defaults.nix;
  renderIni = import ./render-ini.nix;
  checks = import ./assertions.nix;

  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;
  removePrefix = prefix: s: substring (stringLength prefix) (stringLength s) s;
  lines = text: filter (l: builtins.isString l && l != "") (split "\n" text);
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
in
rec {
  inherit renderIni checks;
  hardening = import ./hardening.nix;
  metrics = import ./metrics.nix;

  # Option defaults for a plain attrset namespace definition.
  withDefaults =
    ns:
    {
      inherit (defaults)
        enable
        wireguardConfigFiles
        accessibleFrom
        portMappings
        openVPNPorts
        allowedEgress
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
      health = defaults.health // (ns.health or { });
      portForwarding = defaults.portForwardingOptions // (ns.portForwarding or { });
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

  # ---- Restarts on switch-to-configuration.
  #
  # switch-to-configuration(-ng) restarts an active unit when its unit file
  # changed, drop-ins included, restartTriggers (X-Restart-Triggers= in
  # [Unit]) being part of it: for an instance with no unit file of its own
  # ("wg-up@wg.service"), it parses the template ("wg-up@.service") with the
  # template's drop-ins and then the instance's ("wg-up@wg.service.d/
  # *.conf"), and compares the result (nixpkgs,
  # pkgs/by-name/sw/switch-to-configuration-ng/src/src/main.rs: the
  # template-instance branch of the loop over the active units, parse_unit,
  # compare_units, which ignores a few [Unit] keys but not
  # X-Restart-Triggers=; handle_modified_unit then stops the service
  # before the activation and starts it after). So a trigger in an
  # instance's drop-in restarts that instance alone, when it is active or
  # activating (a tunnel waiting to retry is). The module's triggers are computed from the rendered
  # ini files, each from the lines that the unit it is on reads, so that a
  # unit restarts exactly when what it reads changed (who reads which key:
  # namespaceKeyUnit below):
  #   - vpn-ns@N: the [Namespace] lines read by the generator or netns-up.
  #     Restarting it restarts netns@N, wg-up@N and vpn-portfwd@N
  #     (PartOf=), and with netns@N every service confined in N (BindsTo=).
  #   - wg-up@N: the lines only the tunnel (wg-up --foreground, its
  #     supervisor) reads: the health checks (and WireGuardImplementation=,
  #     which the module does not write). The confined services are bound to
  #     netns@N, not to the tunnel, so they keep running; while the tunnel
  #     restarts the namespace's base ruleset drops their traffic
  #     (docs/ARCHITECTURE.md, L3). vpn-online@N (PartOf=wg-up@N) goes
  #     with it and is started again at the new tunnel's first handshake;
  #     vpn-portfwd@N follows the new tunnel without restarting.
  #   - vpn-portfwd@N (with PortForwarding=natpmp): the lines only
  #     port-forward reads, the gateway and the hook. Nothing else restarts.
  #   - a confined service: its namespace's name and vpn-ns@N's lines. A
  #     service added to or removed from [Confinement] restarts, alone;
  #     the other services of the namespace do not. When the namespace
  #     restarts, its services are restarted by switch-to-configuration
  #     itself, also those that no target wants (BindsTo= only stops them).

  # Which unit of namespace N reads a [Namespace] key, when only one does
  # (common/config.c key_defs[] names the keys; the helpers' code says who
  # uses them): the health keys only the supervisor (helpers/supervisor.c),
  # WireGuardImplementation= only the tunnel's bring-up (helpers/tunnel.c,
  # create_link), the gateway and the hook only port-forward
  # (helpers/portfwd.c). Every other key, and any line this table does not
  # know, counts for the whole namespace (vpn-ns), as a key the generator,
  # netns-up's ruleset or addresses, or more than one unit reads:
  # WireGuardConfigFile= (the generator's drop-ins, netns-up's DNS rules,
  # wg-up), the addresses, AccessibleFrom=, PortMapping=, OpenVPNPort=,
  # AllowedEgress= (the ruleset, and wg-up's check), PortForwarding= (the
  # ruleset's sets, the generator's vpn-portfwd@N).
  namespaceKeyUnit = {
    HealthCheckTimeout = "wg-up";
    FailoverAfter = "wg-up";
    FailbackAfter = "wg-up";
    HealthCheckAddress = "wg-up";
    WireGuardImplementation = "wg-up";
    PortForwardingGateway = "vpn-portfwd";
    PortForwardingHook = "vpn-portfwd";
  };
  # "vpn-ns", "wg-up" or "vpn-portfwd": the unit a [Namespace] line is for.
  namespaceLineUnit =
    line:
    let
      key = match "([A-Za-z0-9]+)=.*" line;
    in
    if key == null then "vpn-ns" else namespaceKeyUnit.${builtins.head key} or "vpn-ns";

  # { SECTION = [ lines ]; } of an ini text; comments and empty lines out.
  iniSections =
    text:
    (foldl'
      (
        acc: line:
        let
          header = match "\\[([A-Za-z]+)]" line;
        in
        if match "[#;].*" line != null then
          acc
        else if header != null then
          acc // { current = builtins.head header; }
        else
          acc
          // {
            sections = acc.sections // {
              ${acc.current} = (acc.sections.${acc.current} or [ ]) ++ [ line ];
            };
          }
      )
      {
        current = "";
        sections = { };
      }
      (lines text)
    ).sections;

  # { "<systemd.services name>" = [ trigger ]; } for vpn-ns@N and wg-up@N
  # of every enabled namespace, vpn-portfwd@N of those with port forwarding,
  # and every service an ini confines.
  restartTriggers =
    cfg:
    let
      files = iniFiles cfg;
      perNamespace =
        file:
        let
          name = builtins.head (match "(.*)[.]ini" file);
          sections = iniSections files.${file};
          nsLines = sections.Namespace or [ ];
          hashOf = unit: hashString "sha256" (concatStringsSep "\n" (filter (l: namespaceLineUnit l == unit) nsLines));
          namespaceHash = hashOf "vpn-ns";
          portForwarding = cfg.namespaces.${name}.portForwarding.enable;
          units = map (l: removePrefix "Unit=" l) (filter (hasPrefix "Unit=") (sections.Confinement or [ ]));
          service = unit: builtins.head (match "(.*)[.]service" unit);
        in
        [
          {
            name = "vpn-ns@${name}";
            value = [ "vpn-confinement namespace ${name} ${namespaceHash}" ];
          }
          {
            name = "wg-up@${name}";
            value = [ "vpn-confinement tunnel ${name} ${hashOf "wg-up"}" ];
          }
        ]
        ++ (
          if portForwarding then
            [
              {
                name = "vpn-portfwd@${name}";
                value = [ "vpn-confinement port forwarding ${name} ${hashOf "vpn-portfwd"}" ];
              }
            ]
          else
            [ ]
        )
        ++ map (unit: {
          name = service unit;
          value = [ "vpn-confinement confined in ${name} ${namespaceHash}" ];
        }) units;
    in
    listToAttrs (concatLists (map perNamespace (attrNames files)));

  # The namespace units that get a restart trigger: vpn-ns@N and wg-up@N of
  # every enabled namespace, vpn-portfwd@N of those with port forwarding.
  # module.nix makes a systemd.services entry (a drop-in) for each, so the
  # names come from vpnNamespaces alone: names that depended on
  # systemd.services would be an infinite recursion there.
  namespaceUnits =
    namespaces:
    concatLists (
      map (
        n:
        [
          "vpn-ns@${n}"
          "wg-up@${n}"
        ]
        ++ (if namespaces.${n}.portForwarding.enable then [ "vpn-portfwd@${n}" ] else [ ])
      ) (filter (n: namespaces.${n}.enable) (attrNames namespaces))
    );

  # The units (with ".service") that switching from configuration old to
  # new restarts, by the rules above: the units defined in both whose
  # triggers differ, and what a restart of vpn-ns@N takes with it. (A unit
  # defined in only one of them is started or stopped, not restarted.)
  switchRestarts =
    old: new:
    let
      t0 = restartTriggers old;
      t1 = restartTriggers new;
      defined = cfg: attrNames cfg.services ++ namespaceUnits cfg.namespaces;
      both = filter (u: elem u (defined new)) (unique (defined old));
      changed = filter (u: (t0.${u} or [ ]) != (t1.${u} or [ ])) both;
      namespaces = map (removePrefix "vpn-ns@") (filter (hasPrefix "vpn-ns@") changed);
      # PartOf=vpn-ns@N: netns@N, wg-up@N, and vpn-portfwd@N where it ran.
      propagated = concatLists (
        map (
          n:
          [
            "netns@${n}"
            "wg-up@${n}"
          ]
          ++ filter (u: t0 ? ${u}) [ "vpn-portfwd@${n}" ]
          ++ servicesIn old.services n
        ) namespaces
      );
    in
    sort builtins.lessThan (unique (map (u: "${u}.service") (changed ++ propagated)));

  # ---- overrideStrategy of a systemd.services entry, or null for NixOS's
  # default, asDropinIfExists: a full unit file unless a unit of that exact
  # name comes with systemd or systemd.packages. An instance
  # ("foo@bar.service") never does, only its template: the full unit
  # NixOS would write has just the settings given here, no ExecStart=, and
  # shadows the template. So every instance the module sets something on,
  # or that a user may (the namespace units netns@, wg-up@, vpn-ns@,
  # vpn-online@), is written as a drop-in.
  isInstance = name: match "[^@]+@[^@]+" name != null;
  isNamespaceUnit = name: match "(netns|wg-up|vpn-ns|vpn-online|vpn-portfwd)@[a-z][a-z0-9]{0,6}" name != null;
  overrideStrategyFor =
    { name, confined }: if isNamespaceUnit name || (confined && isInstance name) then "asDropin" else null;

  # ---- Links a namespace puts into the host's network namespace: the
  # bridge and the host end of the veth pair (netns-up), and the WireGuard
  # interface under its temporary name "vc-N-XXXX" until wg-up moves it into
  # the namespace (helpers/cmd-wg.c), and the device of a failback trial,
  # up for a few seconds under such a name (helpers/tunnel.c). No DHCP
  # client, network manager or
  # networkd may configure them, as the NixOS containers module keeps them
  # off its own links.
  hostLinks = name: [
    "${name}-br"
    "veth-${name}-br"
    "vc-${name}-*"
  ];
  # names: the enabled namespaces.
  dhcpcdDenyInterfaces = names: concatLists (map hostLinks names);
  networkManagerUdevRules =
    names:
    concatStringsSep "" (
      map (n: ''
        SUBSYSTEM=="net", ENV{INTERFACE}=="${concatStringsSep "|" (hostLinks n)}", ENV{NM_UNMANAGED}="1"
      '') names
    );
  # networkd uses the first .network file (by name) that matches a link;
  # "10-" sorts before NixOS's own (40-<interface>, 99-*-dhcp) and
  # systemd's (80-container-vz.network matches a bridge named vz-*, such as
  # namespace vz's).
  networkdUnmanaged =
    names:
    listToAttrs (
      map (n: {
        name = "10-vpn-confinement-${n}";
        value = {
          matchConfig.Name = concatStringsSep " " (hostLinks n);
          linkConfig.Unmanaged = true;
        };
      }) names
    );

  # ---- nixpkgs' nftables module: with flushRuleset, every start, reload
  # and stop of nftables.service runs `flush ruleset`, which deletes the
  # host tables "inet vpn-confinement-N" too. nixpkgs sets it by default
  # (mkDefault) only for system.stateVersion older than 23.11 or when
  # networking.nftables.ruleset or rulesetFile is set.
  nftablesWarnings =
    nftables:
    if nftables.enable && nftables.flushRuleset then
      [
        ("vpn-confinement: networking.nftables.flushRuleset is on, so every start, reload or stop of "
        + "nftables.service (switch-to-configuration reloads it when its rules change) flushes the "
        + "whole ruleset, the host tables \"inet vpn-confinement-<name>\" (port mappings and the "
        + "host-side guard) included, until vpn-ns@<name> restarts; the namespaces' own kill switch "
        + "stays. nixpkgs turns it on for system.stateVersion older than 23.11 or when "
        + "networking.nftables.ruleset or rulesetFile is set. Set "
        + "networking.nftables.flushRuleset = false; to keep the tables.")
      ]
    else
      [ ];

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
            # Only the package (a fixed store path), for the hooks it ships.
            config.vpnConfinement.package = "/nix/store/00000000000000000000000000000000-vpn-confinement-0.1.0";
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
