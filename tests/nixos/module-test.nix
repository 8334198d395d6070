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
      eq "triggers: for vpn-ns@N of each enabled namespace and each service an ini confines" (attrNames t) [
        "echo"
        "prowlarr"
        "transmission"
        "vpn-ns@two"
        "vpn-ns@wg"
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
restartRows ++ strategyRows ++ linkRows ++ networkdRows ++ nftRows
