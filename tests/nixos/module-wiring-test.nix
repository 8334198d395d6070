# SPDX-License-Identifier: MIT
# nixos/module.nix applies pure.nix's decisions to the options they are
# for: evaluated with builtins only, through a stub of the few nixpkgs lib
# functions it calls. mkIf, mkMerge and the priorities are kept as records
# and resolved here (mkIf false drops its content, priorities are kept to
# be checked), which is enough for one module's own definitions; how
# nixpkgs merges them with other modules' is the VM test's part.
let
  pure = import ../../nixos/pure.nix;
  inherit (builtins)
    attrNames
    foldl'
    isAttrs
    isList
    listToAttrs
    mapAttrs
    toJSON
    ;
  filterAttrs =
    pred: set:
    listToAttrs (
      map (n: {
        name = n;
        value = set.${n};
      }) (builtins.filter (n: pred n set.${n}) (attrNames set))
    );
  lib = {
    inherit mapAttrs attrNames filterAttrs;
    mkOption = o: o;
    types = {
      attrsOf = t: { attrsOf = t; };
      submodule = m: { submodule = m; };
      package = "package";
    };
    literalExpression = text: { inherit text; };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkOverride = priority: content: {
      _type = "override";
      inherit priority content;
    };
    mkDefault = lib.mkOverride 1000;
    genAttrs =
      names: f:
      listToAttrs (
        map (n: {
          name = n;
          value = f n;
        }) names
      );
    nameValuePair = name: value: { inherit name value; };
    mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
  };

  # Definitions as values: mkMerge merged, mkIf false gone, a priority as
  # { priority, value }.
  merge =
    a: b:
    if isAttrs a && isAttrs b && !(a ? priority) then
      a // mapAttrs (n: v: if a ? ${n} then merge a.${n} v else v) b
    else if isList a && isList b then
      a ++ b
    else
      throw "module-wiring-test: two definitions of one value: ${toJSON a} and ${toJSON b}";
  resolve =
    v:
    if isAttrs v && v ? _type then
      if v._type == "merge" then
        foldl' merge { } (builtins.filter (x: x != null) (map resolve v.contents))
      else if v._type == "if" then
        (if v.condition then resolve v.content else null)
      else
        {
          inherit (v) priority;
          value = resolve v.content;
        }
    else if isAttrs v then
      filterAttrs (_: x: x != null) (mapAttrs (_: resolve) v)
    else
      v;

  confined = ns: {
    vpnConfinement = {
      enable = true;
      vpnNamespace = ns;
    };
  };
  example = pure.evalConfig {
    vpnNamespaces.wg = {
      enable = true;
      wireguardConfigFile = "/run/secrets/wg.conf";
    };
    systemd.services = {
      transmission = confined "wg";
      "foo@bar" = confined "wg";
      plain = { };
    };
  };
  evalModule =
    {
      cfg ? example,
      networkmanager ? false,
      networkd ? false,
      nftables ? {
        enable = false;
      },
      metrics ? pure.metrics.defaults,
      nodeExporter ? false,
    }:
    let
      module = import ../../nixos/module.nix {
        inherit lib;
        pkgs.vpn-confinement = "/stub/vpn-confinement";
        config = {
          vpnConfinement.package = "/stub/vpn-confinement";
          vpnNamespaces = cfg.namespaces;
          systemd.services = cfg.services;
          systemd.network.enable = networkd;
          networking.networkmanager.enable = networkmanager;
          networking.nftables = nftables;
          services.vpnConfinement.metrics = metrics;
          services.prometheus.exporters.node.enable = nodeExporter;
        };
      };
    in
    {
      config = resolve module.config;
      # systemd.services.<name>, as the module's submodule defines it.
      service =
        name: value:
        resolve
          (module.options.systemd.services.type.attrsOf.submodule {
            inherit name;
            config = value;
          }).config;
    };

  row = name: ok: detail: { inherit name ok detail; };
  eq =
    name: got: want:
    row name (got == want) "got ${toJSON got}, want ${toJSON want}";

  full = evalModule {
    networkmanager = true;
    networkd = true;
    nftables = {
      enable = true;
      flushRuleset = true;
    };
  };
  quiet = evalModule { };
  none = evalModule {
    cfg = pure.evalConfig { systemd.services.plain = { }; };
  };
  triggers = pure.restartTriggers example;
  pfExample = pure.evalConfig {
    vpnNamespaces.wg = {
      enable = true;
      wireguardConfigFile = "/run/secrets/wg.conf";
      portForwarding = {
        enable = true;
        hook = [ "/run/current-system/sw/bin/hook" ];
      };
    };
    systemd.services.transmission = confined "wg";
  };
  withPf = evalModule { cfg = pfExample; };
  pfTriggers = pure.restartTriggers pfExample;
  hardening = mapAttrs (_: value: {
    priority = 1250;
    inherit value;
  }) pure.hardening;
  svc = full.service;

  # services.vpnConfinement.metrics
  metricsOn = pure.metrics.defaults // {
    enable = true;
  };
  withMetrics = evalModule {
    metrics = metricsOn // {
      interval = "1min";
    };
  };
  metricsNoNs = evalModule {
    cfg = pure.evalConfig { systemd.services.plain = { }; };
    metrics = metricsOn;
  };
  metricsExporter = evalModule {
    metrics = metricsOn;
    nodeExporter = true;
  };
  metricsExporterSelf = evalModule {
    metrics = metricsOn // {
      configureNodeExporter = false;
    };
    nodeExporter = true;
  };
  metricsBad = evalModule {
    metrics = metricsOn // {
      directory = "/var/lib/../tmp";
      interval = "soon";
    };
  };
  textfileDir = pure.metrics.defaults.directory;
in
[
  (eq "the ini file of each enabled namespace in /etc" full.config.environment.etc {
    "vpn-confinement/wg.ini".text = (pure.iniFiles example)."wg.ini";
  })
  (eq "vpn-ns@ of each enabled namespace starts with the system; wg-up@ gets an entry (for its trigger)"
    full.config.systemd.services
    {
      "vpn-ns@wg".wantedBy = [ "multi-user.target" ];
      "wg-up@wg" = { };
    }
  )
  (eq "with port forwarding: vpn-portfwd@ gets an entry too" withPf.config.systemd.services {
    "vpn-ns@wg".wantedBy = [ "multi-user.target" ];
    "wg-up@wg" = { };
    "vpn-portfwd@wg" = { };
  })
  (eq "vpn-portfwd@wg: a drop-in with its restart trigger"
    (withPf.service "vpn-portfwd@wg" { vpnConfinement.enable = false; })
    {
      overrideStrategy = {
        priority = 1000;
        value = "asDropin";
      };
      restartTriggers = pfTriggers."vpn-portfwd@wg";
    }
  )
  (row "the trigger of vpn-portfwd@wg is its own, not vpn-ns@wg's or wg-up@wg's" (
    pfTriggers ? "vpn-portfwd@wg"
    && pfTriggers."vpn-portfwd@wg" != pfTriggers."vpn-ns@wg"
    && pfTriggers."vpn-portfwd@wg" != pfTriggers."wg-up@wg"
  ) (toJSON pfTriggers))
  (eq "dhcpcd denies the namespace's host links" full.config.networking.dhcpcd.denyInterfaces (
    pure.dhcpcdDenyInterfaces [ "wg" ]
  ))
  (eq "with NetworkManager: the udev rule" full.config.services.udev.extraRules (
    pure.networkManagerUdevRules [ "wg" ]
  ))
  (eq "with networkd: the Unmanaged=yes network" full.config.systemd.network.networks (
    pure.networkdUnmanaged [ "wg" ]
  ))
  (eq "with nftables flushing its ruleset: the warning" full.config.warnings (
    pure.nftablesWarnings {
      enable = true;
      flushRuleset = true;
    }
  ))
  (row "without NetworkManager, networkd, nftables: no udev rule, no network, no warning" (
    !(quiet.config.services.udev or { } ? extraRules)
    && !(quiet.config.systemd.network or { } ? networks)
    && quiet.config.warnings == [ ]
  ) (toJSON quiet.config))
  (eq "no namespace enabled: nothing but the (empty) assertions" none.config { assertions = [ ]; })
  (eq "foo@bar, confined: a drop-in (mkDefault), the hardening at priority 1250, its restart trigger"
    (svc "foo@bar" (confined "wg"))
    {
      overrideStrategy = {
        priority = 1000;
        value = "asDropin";
      };
      serviceConfig = hardening;
      restartTriggers = triggers."foo@bar";
    }
  )
  (eq "transmission, confined: NixOS's default overrideStrategy, the hardening, its restart trigger"
    (svc "transmission" (confined "wg"))
    {
      serviceConfig = hardening;
      restartTriggers = triggers.transmission;
    }
  )
  (eq "wg-up@wg, set by a user: a drop-in with its restart trigger" (svc "wg-up@wg" { vpnConfinement.enable = false; }) {
    overrideStrategy = {
      priority = 1000;
      value = "asDropin";
    };
    restartTriggers = triggers."wg-up@wg";
  })
  (eq "netns@wg, set by a user: a drop-in, nothing else (vpn-ns@wg's trigger restarts it)"
    (svc "netns@wg" { vpnConfinement.enable = false; })
    {
      overrideStrategy = {
        priority = 1000;
        value = "asDropin";
      };
    }
  )
  (eq "vpn-ns@wg: a drop-in with its restart trigger" (svc "vpn-ns@wg" { vpnConfinement.enable = false; }) {
    overrideStrategy = {
      priority = 1000;
      value = "asDropin";
    };
    restartTriggers = triggers."vpn-ns@wg";
  })
  (eq "an unconfined service: nothing" (svc "plain" { vpnConfinement.enable = false; }) { })
  (row "metrics off (the default): no timer, no tmpfiles rule, no node exporter setting" (
    !(quiet.config.systemd or { } ? timers)
    && !(quiet.config.systemd or { } ? tmpfiles)
    && !(quiet.config.services or { } ? prometheus)
  ) (toJSON quiet.config))
  (eq
    "metrics on: the package's timer wanted by timers.target, its times reset (OnBootSec's empty value first) and its interval set"
    withMetrics.config.systemd.timers
    {
      vpn-confinement-metrics = {
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnBootSec = [
            ""
            "15s"
          ];
          OnUnitActiveSec = "1min";
        };
      };
    }
  )
  (row "... the reset comes first as NixOS writes the keys (sorted)" (
    builtins.attrNames withMetrics.config.systemd.timers.vpn-confinement-metrics.timerConfig == [
      "OnBootSec"
      "OnUnitActiveSec"
    ]
  ) "")
  (eq "metrics on: the service writes DIRECTORY/vpn-confinement.prom"
    withMetrics.config.systemd.services.vpn-confinement-metrics
    { environment.METRICS_FILE = "${textfileDir}/vpn-confinement.prom"; }
  )
  (eq "metrics on: the directory is made" withMetrics.config.systemd.tmpfiles.rules [
    "d ${textfileDir} 0755 root root -"
  ])
  (eq "metrics on, with a namespace: the package registered once" withMetrics.config.systemd.packages [
    "/stub/vpn-confinement"
  ])
  (eq "metrics on, no namespace: the package registered for the timer" metricsNoNs.config.systemd.packages [
    "/stub/vpn-confinement"
  ])
  (eq "metrics on, valid: no assertion" withMetrics.config.assertions [ ])
  (row "metrics on, without the node exporter: its settings untouched" (
    !(withMetrics.config.services.prometheus.exporters or { } ? node)
  ) (toJSON (withMetrics.config.services or { })))
  (eq "metrics on, with the node exporter: its textfile collector reads the directory"
    metricsExporter.config.services.prometheus.exporters.node
    {
      enabledCollectors = [ "textfile" ];
      extraFlags = [ "--collector.textfile.directory=${textfileDir}" ];
    }
  )
  (row "configureNodeExporter = false: the node exporter left alone" (
    !(metricsExporterSelf.config.services.prometheus.exporters or { } ? node)
  ) (toJSON (metricsExporterSelf.config.services or { })))
  (eq "a bad directory and interval: two assertions" (map (a: a.assertion) metricsBad.config.assertions) [
    false
    false
  ])
]
