# SPDX-License-Identifier: MIT
# The module's decisions, with builtins only (nixos/pure.nix): which units a
# switch restarts, which entries are written as drop-ins, which links the
# host's DHCP client and network managers must leave alone, when nftables
# deserves a warning. check-nix.sh prints the { name, ok, detail } list.
let
  pure = import ../../nixos/pure.nix;
  inherit (builtins)
    all
    any
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    genList
    length
    lessThan
    map
    match
    replaceStrings
    sort
    stringLength
    toJSON
    ;
  row = name: ok: detail: { inherit name ok detail; };
  eq =
    name: got: want:
    row name (got == want) "got ${toJSON got}, want ${toJSON want}";

  # ---- Restarts. A configuration, and variations of it.
  confined = ns: {
    vpnConfinement = {
      enable = true;
      vpnNamespace = ns;
    };
  };
  base = {
    vpnNamespaces = {
      wg = {
        enable = true;
        wireguardConfigFile = "/run/secrets/wg.conf";
        portMappings = [
          {
            from = 9091;
            to = 9091;
          }
        ];
      };
      two = {
        enable = true;
        wireguardConfigFile = "/run/secrets/two.conf";
        namespaceAddress = "192.168.16.1";
        bridgeAddress = "192.168.16.5";
      };
    };
    systemd.services = {
      transmission = confined "wg";
      prowlarr = confined "wg";
      echo = confined "two";
      "worker@main" = confined "two";
      plain = { };
    };
  };
  with' = f: pure.evalConfig (f base);
  restarts = f: pure.switchRestarts (pure.evalConfig base) (with' f);
  setService =
    name: value: cfg:
    cfg
    // {
      systemd.services = cfg.systemd.services // {
        ${name} = value;
      };
    };
  setNamespace =
    name: value: cfg:
    cfg
    // {
      vpnNamespaces = cfg.vpnNamespaces // {
        ${name} = cfg.vpnNamespaces.${name} // value;
      };
    };
  wgRestart = [
    "netns@wg.service"
    "prowlarr.service"
    "transmission.service"
    "vpn-ns@wg.service"
    "wg-up@wg.service"
  ];
  newPort = setNamespace "wg" {
    portMappings = [
      {
        from = 9092;
        to = 9091;
      }
    ];
  };

  restartRows = [
    (eq "switch: the same configuration restarts nothing" (restarts (c: c)) [ ])
    (eq "switch: confining a running service restarts it alone, not its namespace" (restarts (
      setService "plain" (confined "wg")
    )) [ "plain.service" ])
    (eq "switch: unconfining a service restarts it alone" (restarts (
      setService "prowlarr" { vpnConfinement.enable = false; }
    )) [ "prowlarr.service" ])
    (eq "switch: moving a service to another namespace restarts it alone" (restarts (
      setService "echo" (confined "wg")
    )) [ "echo.service" ])
    (eq "switch: unconfining a template instance restarts that instance" (restarts (
      setService "worker@main" { vpnConfinement.enable = false; }
    )) [ "worker@main.service" ])
    (eq "switch: a changed [Namespace] restarts the namespace, its units and services, and no other" (restarts
      newPort
    ) wgRestart)
    (eq "switch: a new namespace and a service moved into it: the service alone" (restarts (
      c:
      setService "plain" (confined "three") (
        c
        // {
          vpnNamespaces = c.vpnNamespaces // {
            three = {
              enable = true;
              wireguardConfigFile = "/run/secrets/three.conf";
              namespaceAddress = "192.168.17.1";
              bridgeAddress = "192.168.17.5";
            };
          };
        }
      )
    )) [ "plain.service" ])
    (eq "switch: both at once: namespace wg, and the service added to two" (restarts (
      c: setService "plain" (confined "two") (newPort c)
    )) (sort lessThan (wgRestart ++ [ "plain.service" ])))
    (eq "switch: a namespace disabled: its services restart (unconfined), its units are stopped, not restarted"
      (restarts (
        c:
        setService "worker@main" { } (
          setService "echo" { } (
            c
            // {
              vpnNamespaces = c.vpnNamespaces // {
                two = c.vpnNamespaces.two // {
                  enable = false;
                };
              };
            }
          )
        )
      ))
      [
        "echo.service"
        "worker@main.service"
      ]
    )
    (
      let
        t0 = pure.restartTriggers (pure.evalConfig base);
        t1 = pure.restartTriggers (with' (setService "plain" (confined "wg")));
      in
      row "triggers: vpn-ns@wg's stays the same when a service joins wg" (
        t0."vpn-ns@wg" == t1."vpn-ns@wg" && t0.transmission == t1.transmission && !(t0 ? plain) && t1 ? plain
      ) (toJSON [
        t0
        t1
      ])
    )
    (
      let
        t = pure.restartTriggers (pure.evalConfig base);
      in
      eq "triggers: for vpn-ns@N and wg-up@N of each enabled namespace and each service an ini confines" (attrNames t) [
        "echo"
        "prowlarr"
        "transmission"
        "vpn-ns@two"
        "vpn-ns@wg"
        "wg-up@two"
        "wg-up@wg"
        "worker@main"
      ]
    )
    (eq "ini sections: comments out, lists per section" (pure.iniSections ''
      # c
      [Namespace]
      A=1
      ; c
      A=2

      [Confinement]
      Unit=x.service
    '') {
      Namespace = [
        "A=1"
        "A=2"
      ];
      Confinement = [ "Unit=x.service" ];
    })
  ];

  # ---- Restarts by who reads a key: the tunnel's supervisor (wg-up@N),
  # port-forward (vpn-portfwd@N), or the namespace as a whole (vpn-ns@N).
  setHealth = ns: health: setNamespace ns { health = health; };
  setPortForwarding = ns: pf: setNamespace ns { portForwarding = pf; };
  hook = [
    "/nix/store/00000000000000000000000000000000-vpn-confinement-0.1.0/share/vpn-confinement/examples/transmission-port-hook"
    "--url"
    "http://192.168.15.1:9091/transmission/rpc"
  ];
  # base with port forwarding on in wg, and a health check set: the
  # configuration the fine-grained cases change.
  pfBase = setHealth "wg" { timeout = "1min"; } (
    setPortForwarding "wg" {
      enable = true;
      inherit hook;
    } base
  );
  restartsFrom = from: f: pure.switchRestarts (pure.evalConfig from) (pure.evalConfig (f from));
  pfRestarts = restartsFrom pfBase;
  # What a [Namespace] change of wg restarts when its port forwarding runs.
  wgPfRestart = sort lessThan (wgRestart ++ [ "vpn-portfwd@wg.service" ]);
  healthValues = {
    timeout = "45s";
    failoverAfter = 5;
    failbackAfter = "30min";
    address = "1.1.1.1";
  };

  keyRestartRows = [
    (eq "switch: the same configuration, port forwarding and health on, restarts nothing" (pfRestarts (c: c)) [ ])
  ]
  ++ map (
    key:
    eq "switch: health.${key} set restarts the tunnel wg-up@wg alone: not the namespace, not its services" (restarts (
      setHealth "wg" { ${key} = healthValues.${key}; }
    )) [ "wg-up@wg.service" ]
  ) (attrNames healthValues)
  ++ [
    (eq "switch: health.timeout changed restarts wg-up@wg alone" (pfRestarts (setHealth "wg" { timeout = "2min"; })) [
      "wg-up@wg.service"
    ])
    (eq "switch: health.timeout unset (the helper's default) restarts wg-up@wg alone" (pfRestarts (
      setHealth "wg" { timeout = null; }
    )) [ "wg-up@wg.service" ])
    (eq "switch: health of namespace two restarts wg-up@two alone, nothing of wg" (restarts (
      setHealth "two" { timeout = "45s"; }
    )) [ "wg-up@two.service" ])
    (eq "switch: the port forwarding hook changed restarts vpn-portfwd@wg alone" (pfRestarts (
      setPortForwarding "wg" {
        enable = true;
        hook = hook ++ [ "--verbose" ];
      }
    )) [ "vpn-portfwd@wg.service" ])
    (eq "switch: the hook given as a string instead of a list restarts vpn-portfwd@wg alone" (pfRestarts (
      setPortForwarding "wg" {
        enable = true;
        hook = builtins.head hook;
      }
    )) [ "vpn-portfwd@wg.service" ])
    (eq "switch: the hook removed restarts vpn-portfwd@wg alone" (pfRestarts (
      setPortForwarding "wg" { enable = true; }
    )) [ "vpn-portfwd@wg.service" ])
    (eq "switch: the port forwarding gateway set restarts vpn-portfwd@wg alone" (pfRestarts (
      setPortForwarding "wg" {
        enable = true;
        inherit hook;
        gateway = "10.2.0.1";
      }
    )) [ "vpn-portfwd@wg.service" ])
    (eq "switch: hook and health at once: vpn-portfwd@wg and wg-up@wg, nothing else" (pfRestarts (
      c:
      setHealth "wg" { timeout = "2min"; } (
        setPortForwarding "wg" {
          enable = true;
          hook = hook ++ [ "--verbose" ];
        } c
      )
    )) [
      "vpn-portfwd@wg.service"
      "wg-up@wg.service"
    ])
    (eq "switch: port forwarding turned off restarts the whole namespace, vpn-portfwd@wg with it" (pfRestarts (
      setPortForwarding "wg" { enable = false; }
    )) wgPfRestart)
    (eq "switch: port forwarding turned on restarts the whole namespace (vpn-portfwd@wg is started)" (restarts (
      setPortForwarding "wg" {
        enable = true;
        inherit hook;
      }
    )) wgRestart)
    (eq "switch: accessibleFrom changed, port forwarding on: the whole namespace" (pfRestarts (
      setNamespace "wg" { accessibleFrom = [ "192.168.1.0/24" ]; }
    )) wgPfRestart)
    (eq "switch: a port mapping changed, port forwarding on: the whole namespace" (pfRestarts newPort) wgPfRestart)
    (eq "switch: a port mapping and the health at once: the whole namespace (wg-up@wg is in it)" (pfRestarts (
      c: setHealth "wg" { timeout = "2min"; } (newPort c)
    )) wgPfRestart)
    (eq "switch: another WireGuard config to fail over to: the whole namespace (the generator and netns-up read it)"
      (pfRestarts (setNamespace "wg" { wireguardConfigFiles = [ "/run/secrets/wg2.conf" ]; }))
      wgPfRestart
    )
    (eq "switch: allowedEgress changed: the whole namespace (the ruleset)" (pfRestarts (
      setNamespace "wg" { allowedEgress = [ "192.168.1.10:8000:tcp" ]; }
    )) wgPfRestart)
    (eq "switch: a service confined, port forwarding and health on: that service alone" (pfRestarts (
      setService "plain" (confined "wg")
    )) [ "plain.service" ])
    (eq "switch: a service unconfined, port forwarding and health on: that service alone" (pfRestarts (
      setService "transmission" { vpnConfinement.enable = false; }
    )) [ "transmission.service" ])
    (
      let
        t0 = pure.restartTriggers (pure.evalConfig pfBase);
        t1 = pure.restartTriggers (
          pure.evalConfig (
            setHealth "wg" { timeout = "2min"; } (
              setPortForwarding "wg" {
                enable = true;
                hook = hook ++ [ "--verbose" ];
              } pfBase
            )
          )
        );
        same = filter (u: t0.${u} == t1.${u}) (attrNames t0);
      in
      eq "triggers: a health and hook change leaves vpn-ns@wg's and its services' triggers as they were" (sort lessThan (
        filter (u: !(elem u same)) (attrNames t0)
      )) [ "vpn-portfwd@wg" "wg-up@wg" ]
    )
    (
      let
        t = pure.restartTriggers (pure.evalConfig pfBase);
      in
      eq "triggers: the namespace units that get one are pure.namespaceUnits (module.nix makes their entries)" (sort lessThan (
        filter pure.isNamespaceUnit (attrNames t)
      )) (sort lessThan (pure.namespaceUnits (pure.evalConfig pfBase).namespaces))
    )
    (eq "namespaceUnits: vpn-ns@ and wg-up@ of each enabled namespace, vpn-portfwd@ where port forwarding is on"
      (sort lessThan (pure.namespaceUnits (pure.evalConfig pfBase).namespaces))
      [
        "vpn-ns@two"
        "vpn-ns@wg"
        "vpn-portfwd@wg"
        "wg-up@two"
        "wg-up@wg"
      ]
    )
    (eq "lines: each [Namespace] line goes to the unit that reads it; an unknown key or a line that is no key=value to the namespace" (map pure.namespaceLineUnit [
      "HealthCheckTimeout=45s"
      "FailoverAfter=3"
      "FailbackAfter=30min"
      "HealthCheckAddress=1.1.1.1"
      "WireGuardImplementation=userspace"
      "PortForwardingGateway=10.2.0.1"
      "PortForwardingHook=/bin/hook 1"
      "PortForwarding=natpmp"
      "WireGuardConfigFile=/run/secrets/wg.conf"
      "AccessibleFrom=192.168.1.0/24"
      "SomeFutureKey=1"
      "no key"
    ]) [
      "wg-up"
      "wg-up"
      "wg-up"
      "wg-up"
      "wg-up"
      "vpn-portfwd"
      "vpn-portfwd"
      "vpn-ns"
      "vpn-ns"
      "vpn-ns"
      "vpn-ns"
      "vpn-ns"
    ])
  ];

  # ---- overrideStrategy.
  strategy = name: confinedFlag: pure.overrideStrategyFor {
    inherit name;
    confined = confinedFlag;
  };
  strategyRows = map (c: eq "overrideStrategy of ${c.name}${if c.confined then " (confined)" else ""}: ${toJSON c.want}" (strategy c.name c.confined) c.want) [
    {
      name = "vpn-ns@wg";
      confined = false;
      want = "asDropin";
    }
    {
      name = "netns@wg";
      confined = false;
      want = "asDropin";
    }
    {
      name = "wg-up@abcdefg";
      confined = false;
      want = "asDropin";
    }
    {
      # wantedBy = [ "vpn-online@wg.service" ] on another unit writes no
      # entry for it; setting something on it does.
      name = "vpn-online@wg";
      confined = false;
      want = "asDropin";
    }
    {
      name = "foo@bar";
      confined = true;
      want = "asDropin";
    }
    {
      name = "foo@bar";
      confined = false;
      want = null;
    }
    {
      name = "transmission";
      confined = true;
      want = null;
    }
    {
      name = "netns@";
      confined = false;
      want = null;
    }
  ];

  # ---- Host links. A shell glob (*, ?) as a regular expression.
  globRegex =
    g:
    replaceStrings
      [ "*" "?" "." "+" "(" ")" "{" "}" "^" "$" "|" "\\" ]
      [ ".*" "." "\\." "\\+" "\\(" "\\)" "\\{" "\\}" "\\^" "\\$" "\\|" "\\\\" ]
      g;
  globMatch = g: s: match (globRegex g) s != null;
  # What netns-up and wg-up create on the host for namespace n.
  linksOf = n: [
    {
      name = "${n}-br";
      kind = "bridge";
    }
    {
      name = "veth-${n}-br";
      kind = "veth";
    }
    {
      name = "vc-${n}-1f2e";
      kind = "wireguard";
    }
    {
      name = "vc-${n}-00ab";
      kind = "tun";
    }
  ];
  deny = pure.dhcpcdDenyInterfaces [
    "ab"
    "abc"
  ];
  denied = l: any (g: globMatch g l) deny;
  linkRows =
    [
      (eq "dhcpcd: the deny list of namespaces ab and abc" deny [
        "ab-br"
        "veth-ab-br"
        "vc-ab-*"
        "abc-br"
        "veth-abc-br"
        "vc-abc-*"
      ])
      (row "dhcpcd: every link of both namespaces is denied" (all (l: denied l.name) (linksOf "ab" ++ linksOf "abc")) "")
      (row "dhcpcd: namespace ab's patterns leave namespace abc's links and eth0 alone" (
        !any (l: any (g: globMatch g l.name) (pure.hostLinks "ab")) (linksOf "abc")
        && !denied "eth0"
        && !denied "wg0"
      ) "")
      (row "links: with a 7-character name every link name fits IFNAMSIZ (15 characters)" (all (
        l: stringLength l.name <= 15
      ) (linksOf "abcdefg")) "")
      (eq "NetworkManager: one udev rule per namespace" (pure.networkManagerUdevRules [ "wg" ]) ''
        SUBSYSTEM=="net", ENV{INTERFACE}=="wg-br|veth-wg-br|vc-wg-*", ENV{NM_UNMANAGED}="1"
      '')
    ];

  # ---- systemd-networkd: the .network files that come with systemd
  # (network/meson.build installs them: 80-container-{host0,ve,vb,vz},
  # 80-vm-vt, 80-6rd-tunnel, 80-wifi-adhoc) and NixOS's for
  # networking.useDHCP (nixos/modules/tasks/network-interfaces-systemd.nix),
  # by their [Match]: name globs and the kind of link (null: any). networkd
  # takes the first file by name that matches.
  defaultNetworks = [
    {
      file = "80-container-host0.network";
      names = [ "host0" ];
      kinds = null;
    }
    {
      file = "80-container-ve.network";
      names = [ "ve-*" ];
      kinds = [ "veth" ];
    }
    {
      file = "80-container-vb.network";
      names = [ "vb-*" ];
      kinds = [ "veth" ];
    }
    {
      file = "80-container-vz.network";
      names = [ "vz-*" ];
      kinds = [ "bridge" ];
    }
    {
      file = "80-vm-vt.network";
      names = [ "vt-*" ];
      kinds = [ "tun" ];
    }
    {
      file = "80-6rd-tunnel.network";
      names = [ "6rd-*" ];
      kinds = [ "sit" ];
    }
    # WLANInterfaceType=ad-hoc / station, Kind=!* (physical): none of ours.
    {
      file = "80-wifi-adhoc.network";
      names = [ ];
      kinds = [ ];
    }
    {
      file = "99-ethernet-default-dhcp.network";
      names = [ "*" ];
      kinds = [ ];
    }
    {
      file = "99-wireless-client-dhcp.network";
      names = [ ];
      kinds = [ ];
    }
  ];
  # Namespace names that share a prefix with those files' globs.
  probeNames = [
    "ve"
    "vb"
    "vz"
    "vt"
    "ns"
    "host0"
    "wg"
  ];
  defaultMatches = concatLists (
    map (
      n:
      concatLists (
        map (
          l:
          map (d: {
            inherit (d) file;
            namespace = n;
            link = l.name;
          }) (filter (d: any (g: globMatch g l.name) d.names && (d.kinds == null || elem l.kind d.kinds)) defaultNetworks)
        ) (linksOf n)
      )
    ) probeNames
  );
  ours = pure.networkdUnmanaged probeNames;
  networkdRows = [
    (eq "networkd: the defaults that would configure one of our links (namespace vz's bridge)" defaultMatches [
      {
        file = "80-container-vz.network";
        namespace = "vz";
        link = "vz-br";
      }
    ])
    (
      let
        oursFor =
          link:
          filter (
            f:
            ours.${f}.linkConfig.Unmanaged or false
            && any (g: globMatch g link) (filter builtins.isString (builtins.split " " ours.${f}.matchConfig.Name))
          ) (attrNames ours);
      in
      row "networkd: for each such link an Unmanaged=yes file of ours matches it and comes first" (
        defaultMatches != [ ]
        && all (m: oursFor m.link != [ ] && all (f: lessThan "${f}.network" m.file) (oursFor m.link)) defaultMatches
      ) (toJSON ours)
    )
    (row "networkd: our files come before NixOS's per-interface files (40-<interface>)" (all (
      f: lessThan f "40-"
    ) (attrNames ours)) (toJSON (attrNames ours)))
  ];

  # ---- nftables warning.
  warn = enable: flushRuleset: pure.nftablesWarnings { inherit enable flushRuleset; };
  nftRows = [
    (row "nftables: flushRuleset on: a warning that says how to avoid it" (
      length (warn true true) == 1 && match ".*networking.nftables.flushRuleset = false;.*" (builtins.head (warn true true)) != null
    ) (toJSON (warn true true)))
    (eq "nftables: flushRuleset off: no warning" (warn true false) [ ])
    (eq "nftables: not enabled: no warning" (warn false true) [ ])
  ];
in
restartRows ++ keyRestartRows ++ strategyRows ++ linkRows ++ networkdRows ++ nftRows
