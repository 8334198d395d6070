# SPDX-License-Identifier: MIT
# Table-driven tests of the module's assertions (nixos/assertions.nix), with
# builtins only. Each case is a configuration and the messages it must give:
# `expect = [ ]` means it must pass; otherwise each expected string must be
# part of exactly one message, and there must be no other message.
#
# nix-instantiate --eval --strict --json tests/nixos/assertions-test.nix
# gives a list of { name, ok, detail }; check-nix.sh prints them.
let
  pure = import ../../nixos/pure.nix;
  inherit (builtins)
    all
    any
    filter
    length
    concatStringsSep
    ;
  hasInfix =
    needle: s:
    let
      n = builtins.stringLength needle;
      go = i: i + n <= builtins.stringLength s && (builtins.substring i n s == needle || go (i + 1));
    in
    go 0;

  # A namespace that passes every check, to vary one thing at a time.
  ok = extra: {
    enable = true;
    wireguardConfigFile = "/run/secrets/wg0.conf";
  } // extra;
  confined = ns: {
    vpnConfinement = {
      enable = true;
      vpnNamespace = ns;
    };
  };

  cases = [
    {
      name = "a valid configuration passes";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.transmission = confined "wg";
      };
      expect = [ ];
    }
    {
      name = "the 7-character name limit is accepted";
      config.vpnNamespaces.abcdefg = ok { };
      expect = [ ];
    }
    {
      name = "an 8-character name is rejected, explaining IFNAMSIZ";
      config.vpnNamespaces.abcdefgh = ok { };
      expect = [ "\"abcdefgh\" is invalid: use 1 to 7 characters" ];
    }
    {
      name = "the IFNAMSIZ explanation is in the message";
      config.vpnNamespaces.toolongname = ok { };
      expect = [ "(IFNAMSIZ)" ];
    }
    {
      name = "a name starting with a digit is rejected";
      config.vpnNamespaces."1wg" = ok { };
      expect = [ "\"1wg\" is invalid" ];
    }
    {
      name = "upper case and dashes are rejected";
      config.vpnNamespaces = {
        Wg = ok { namespaceAddress = "192.168.20.1"; bridgeAddress = "192.168.20.5"; };
        "w-g" = ok { };
      };
      expect = [
        "\"Wg\" is invalid"
        "\"w-g\" is invalid"
      ];
    }
    {
      name = "a disabled namespace is not checked";
      config.vpnNamespaces.waytoolongname = {
        enable = false;
      };
      expect = [ ];
    }
    {
      name = "vpnNamespace must name a defined namespace";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.transmission = confined "wgg";
      };
      expect = [ "vpnNamespace = \"wgg\", but vpnNamespaces.wgg is not defined (enabled: wg)" ];
    }
    {
      name = "vpnNamespace must name an enabled namespace";
      config = {
        vpnNamespaces.wg = ok { enable = false; };
        systemd.services.transmission = confined "wg";
      };
      expect = [ "vpnNamespaces.wg.enable is false (none is enabled)" ];
    }
    {
      name = "vpnNamespace must be set";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.transmission = confined null;
      };
      expect = [ "systemd.services.transmission.vpnConfinement.vpnNamespace is not set" ];
    }
    {
      name = "an unconfined service may name anything";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.other.vpnConfinement = {
          enable = false;
          vpnNamespace = "nope";
        };
      };
      expect = [ ];
    }
    {
      name = "two namespaces with the same default subnet overlap";
      config.vpnNamespaces = {
        one = ok { };
        two = ok { };
      };
      expect = [ "namespaces \"one\" and \"two\" overlap: subnet 192.168.15.0/24 and subnet 192.168.15.0/24" ];
    }
    {
      name = "a /16 namespace overlaps a /24 inside it";
      config.vpnNamespaces = {
        big = ok {
          namespaceAddress = "10.20.0.1/16";
          bridgeAddress = "10.20.0.2/16";
        };
        small = ok {
          namespaceAddress = "10.20.30.1";
          bridgeAddress = "10.20.30.2";
        };
      };
      expect = [ "subnet 10.20.0.0/16 and subnet 10.20.30.0/24 share addresses" ];
    }
    {
      name = "adjacent /25 subnets do not overlap";
      config.vpnNamespaces = {
        low = ok {
          namespaceAddress = "192.168.15.1/25";
          bridgeAddress = "192.168.15.5/25";
        };
        high = ok {
          namespaceAddress = "192.168.15.129/25";
          bridgeAddress = "192.168.15.133/25";
        };
      };
      expect = [ ];
    }
    {
      name = "overlapping IPv6 subnets are rejected";
      config.vpnNamespaces = {
        one = ok {
          namespaceAddressIPv6 = "fd93:9701:1d00::2";
          bridgeAddressIPv6 = "fd93:9701:1d00::1";
        };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          namespaceAddressIPv6 = "fd93:9701:1d00:0:1::2/80";
          bridgeAddressIPv6 = "fd93:9701:1d00:0:1::1/80";
        };
      };
      expect = [ "subnet fd93:9701:1d00:0:0:0:0:0/64 and subnet fd93:9701:1d00:0:1:0:0:0/80 share addresses" ];
    }
    {
      name = "distinct IPv6 subnets pass";
      config.vpnNamespaces = {
        one = ok {
          namespaceAddressIPv6 = "fd93:9701:1d00::2";
          bridgeAddressIPv6 = "fd93:9701:1d00::1";
        };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          namespaceAddressIPv6 = "fd93:9701:1d01::2";
          bridgeAddressIPv6 = "fd93:9701:1d01::1";
        };
      };
      expect = [ ];
    }
    {
      name = "a host port mapped by two namespaces (tcp and both) is rejected";
      config.vpnNamespaces = {
        one = ok { portMappings = [ { from = 8080; to = 80; } ]; };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          portMappings = [ { from = 8080; to = 8080; protocol = "both"; } ];
        };
      };
      expect = [ "host port 8080 is mapped twice: vpnNamespaces.one.portMappings (to 80, tcp) and vpnNamespaces.two.portMappings (to 8080, both)" ];
    }
    {
      name = "a host port mapped twice in one namespace is rejected";
      config.vpnNamespaces.wg = ok {
        portMappings = [
          { from = 53; to = 53; protocol = "udp"; }
          { from = 53; to = 5353; protocol = "udp"; }
        ];
      };
      expect = [ "host port 53 is mapped twice" ];
    }
    {
      name = "the same host port for tcp and for udp is fine";
      config.vpnNamespaces.wg = ok {
        portMappings = [
          { from = 53; to = 53; protocol = "udp"; }
          { from = 53; to = 53; protocol = "tcp"; }
        ];
      };
      expect = [ ];
    }
    {
      name = "the same port inside two namespaces is fine (only host ports clash)";
      config.vpnNamespaces = {
        one = ok { portMappings = [ { from = 8080; to = 80; } ]; };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          portMappings = [ { from = 8081; to = 80; } ];
        };
      };
      expect = [ ];
    }
    {
      name = "a wireguardConfigFile in the Nix store is rejected";
      config.vpnNamespaces.wg = ok { wireguardConfigFile = "${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-wg0.conf"; };
      expect = [ "is in the Nix store, which every user can read" ];
    }
    {
      name = "a relative wireguardConfigFile is rejected";
      config.vpnNamespaces.wg = ok { wireguardConfigFile = "secrets/wg0.conf"; };
      expect = [ "must be an absolute, normalized path" ];
    }
    {
      name = "a wireguardConfigFile with .. or a space is rejected";
      config.vpnNamespaces = {
        one = ok { wireguardConfigFile = "/run/../etc/wg0.conf"; };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          wireguardConfigFile = "/run/my secrets/wg0.conf";
        };
      };
      expect = [
        "one.wireguardConfigFile = \"/run/../etc/wg0.conf\" must be an absolute"
        "two.wireguardConfigFile = \"/run/my secrets/wg0.conf\" must be an absolute"
      ];
    }
    {
      name = "wireguardConfigFiles: outside the store, each an absolute path, none twice";
      config.vpnNamespaces.wg = ok {
        wireguardConfigFiles = [
          "${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-wg1.conf"
          "wg2.conf"
          "/run/secrets/wg0.conf"
          "/run/secrets/wg3.conf"
          (/. + "/run/secrets/wg3.conf")
        ];
      };
      expect = [
        "wg.wireguardConfigFiles = \"${builtins.storeDir}/0123456789abcdfghijklmnpqrsvwxyz-wg1.conf\" is in the Nix store"
        "wg.wireguardConfigFiles = \"wg2.conf\" must be an absolute"
        "wg.wireguardConfigFiles: \"/run/secrets/wg0.conf\" is given twice"
        "wg.wireguardConfigFiles: \"/run/secrets/wg3.conf\" is given twice"
      ];
    }
    {
      name = "wireguardConfigFiles and health: good values pass";
      config.vpnNamespaces.wg = ok {
        wireguardConfigFiles = [ "/run/secrets/wg1.conf" ];
        health = {
          timeout = "1min 30s";
          failoverAfter = 1;
          failbackAfter = "infinity";
          address = "2001:db8::7";
        };
      };
      expect = [ ];
    }
    {
      name = "health: spans as systemd writes them, at least 10 s";
      config.vpnNamespaces = {
        one = ok {
          health = {
            timeout = "9s";
            failbackAfter = "soon";
          };
        };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          health = {
            timeout = "10 seconds ago";
            failbackAfter = "9999ms";
          };
        };
        three = ok {
          namespaceAddress = "192.168.17.1";
          bridgeAddress = "192.168.17.5";
          health = {
            timeout = ".5min";
            failbackAfter = "1h 2m 3s";
          };
        };
      };
      expect = [
        "one.health.timeout = \"9s\" is shorter than the minimum of 10 s"
        "one.health.failbackAfter = \"soon\" is not a systemd time span"
        "two.health.timeout = \"10 seconds ago\" is not a systemd time span"
        "two.health.failbackAfter = \"9999ms\" is shorter than the minimum of 10 s"
      ];
    }
    {
      name = "health.address: an IP address, not in accessibleFrom";
      config.vpnNamespaces = {
        one = ok { health.address = "vpn.example"; };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          accessibleFrom = [ "10.0.0.0/8" ];
          health.address = "10.2.0.1";
        };
      };
      expect = [
        "one.health.address = \"vpn.example\" is not an IPv4 or IPv6 address"
        "two.health.address = \"10.2.0.1\" is in accessibleFrom"
      ];
    }
    {
      name = "a path literal outside the store is accepted (as its string)";
      config.vpnNamespaces.wg = ok { wireguardConfigFile = /. + "/run/secrets/wg0.conf"; };
      expect = [ ];
    }
    {
      name = "a confined service must not set PrivateNetwork";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.transmission = confined "wg" // {
          serviceConfig.PrivateNetwork = true;
        };
      };
      expect = [ "must not also set serviceConfig.PrivateNetwork" ];
    }
    {
      name = "PrivateNetwork = false (as Transmission's module sets it) is fine";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.transmission = confined "wg" // {
          serviceConfig.PrivateNetwork = false;
        };
      };
      expect = [ ];
    }
    {
      name = "a confined service must not set NetworkNamespacePath or JoinsNamespaceOf";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.a = confined "wg" // {
          serviceConfig.NetworkNamespacePath = "/run/netns/other";
        };
        systemd.services.b = confined "wg" // {
          unitConfig.JoinsNamespaceOf = "other.service";
        };
      };
      expect = [
        "systemd.services.a: vpnConfinement is enabled, so the service must not also set serviceConfig.NetworkNamespacePath"
        "systemd.services.b: vpnConfinement is enabled, so the service must not also set unitConfig.JoinsNamespaceOf"
      ];
    }
    {
      name = "an unconfined service may set them";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services.a.serviceConfig.PrivateNetwork = true;
      };
      expect = [ ];
    }
    {
      name = "the bridge must be in the namespace's subnet";
      config.vpnNamespaces.wg = ok { bridgeAddress = "192.168.16.5"; };
      expect = [ "bridgeAddress = \"192.168.16.5\" is not in the subnet 192.168.15.0/24 of namespaceAddress" ];
    }
    {
      name = "the bridge and the namespace need their own addresses";
      config.vpnNamespaces.wg = ok { bridgeAddress = "192.168.15.1"; };
      expect = [ "are the same address (192.168.15.1)" ];
    }
    {
      name = "a malformed address is named";
      config.vpnNamespaces.wg = ok { namespaceAddress = "192.168.15.256"; };
      expect = [ "namespaceAddress = \"192.168.15.256\" is not an IPv4 address" ];
    }
    {
      name = "IPv6 needs both addresses";
      config.vpnNamespaces.wg = ok { namespaceAddressIPv6 = "fd93:9701:1d00::2"; };
      expect = [ "set both namespaceAddressIPv6 and bridgeAddressIPv6, or neither" ];
    }
    {
      name = "accessibleFrom entries must be prefixes without host bits";
      config.vpnNamespaces.wg = ok {
        accessibleFrom = [
          "192.168.1.7/24"
          "lan"
          "192.168.2.7"
          "fd00::/8"
        ];
      };
      expect = [
        "\"192.168.1.7/24\" has host bits set; the prefix is 192.168.1.0/24"
        "\"lan\" is not an IPv4 or IPv6 address"
      ];
    }
    {
      name = "overlapping accessibleFrom entries are rejected";
      config.vpnNamespaces.wg = ok {
        accessibleFrom = [
          "10.0.0.0/8"
          "10.1.0.0/16"
        ];
      };
      expect = [ "\"10.0.0.0/8\" and \"10.1.0.0/16\" overlap" ];
    }
    {
      name = "allowedEgress: addresses, prefixes, ports, protocols and brackets of both families pass";
      config.vpnNamespaces.wg = ok {
        namespaceAddressIPv6 = "fd93:9701:1d00::2";
        bridgeAddressIPv6 = "fd93:9701:1d00::1";
        allowedEgress = [
          "192.168.1.10:8096:tcp"
          "192.168.1.10:8096:udp"
          "192.168.1.0/24"
          "10.0.0.0/8:5432:both"
          "192.168.1.10:8097"
          "192.168.15.5:8096"
          "fd00:1::/64"
          "[fd00::10]:8096:tcp"
          "[fd00:2::/48]"
          "fd93:9701:1d00::1"
        ];
      };
      expect = [ ];
    }
    {
      name = "allowedEgress: syntax, brackets, host bits, width, special ranges, ports";
      config.vpnNamespaces.wg = ok {
        allowedEgress = [
          "lan"
          "fd00::10:8096:tcp"
          "[fd00::10:8096"
          "192.168.1.1:80:sctp"
          "[192.168.1.1]:80"
          "192.168.1.1/24"
          "12.0.0.0/7"
          "127.0.0.1:80"
          "224.0.0.251:5353:udp"
          "192.168.1.1:0"
          "192.168.1.2:70000"
          "192.168.1.3:53:udp"
          "192.168.1.4:853"
        ];
      };
      expect = [
        "\"lan\" is not DESTINATION[:PORT[:tcp|udp|both]]"
        "\"fd00::10:8096:tcp\" is not DESTINATION"
        "\"[fd00::10:8096\" is not DESTINATION"
        "\"192.168.1.1:80:sctp\" is not DESTINATION"
        "\"[192.168.1.1]:80\": only an IPv6 destination is written in brackets"
        "\"192.168.1.1/24\" has host bits set; the prefix is 192.168.1.0/24"
        "\"12.0.0.0/7\" is wider than /8"
        "\"127.0.0.1:80\" is not a destination behind the bridge"
        "\"224.0.0.251:5353:udp\" is not a destination behind the bridge"
        "\"192.168.1.1:0\": the port must be 1 to 65535"
        "\"192.168.1.2:70000\": the port must be 1 to 65535"
        "\"192.168.1.3:53:udp\": port 53 is DNS"
        "\"192.168.1.4:853\": port 853 is DNS"
      ];
    }
    {
      name = "allowedEgress: IPv6 needs the IPv6 pair; never the namespace's own address; overlaps of a kind";
      config.vpnNamespaces.wg = ok {
        allowedEgress = [
          "fd00::/64"
          "192.168.15.0/24"
          "172.16.0.0/16"
          "172.16.1.10"
          "10.0.0.1:80:both"
          "10.0.0.0/24:80:udp"
          "10.0.0.1:81"
        ];
      };
      expect = [
        "\"fd00::/64\" is IPv6: set namespaceAddressIPv6 and bridgeAddressIPv6"
        "\"192.168.15.0/24\" contains the namespace's own address 192.168.15.1"
        "\"172.16.0.0/16\" and \"172.16.1.10\" overlap"
        "\"10.0.0.1:80:both\" and \"10.0.0.0/24:80:udp\" overlap"
      ];
    }
    {
      name = "an open VPN port given twice is rejected";
      config.vpnNamespaces.wg = ok {
        openVPNPorts = [
          { port = 51413; protocol = "both"; }
          { port = 51413; protocol = "udp"; }
        ];
      };
      expect = [ "port 51413 is opened twice (both and udp)" ];
    }
    {
      name = "port forwarding with the tunnel's gateway and a hook as a list passes";
      config.vpnNamespaces.wg = ok {
        portForwarding = {
          enable = true;
          hook = [ "/nix/store/x-vpn-confinement/share/vpn-confinement/examples/transmission-port-hook" "--url" "http://192.168.15.1:9091/transmission/rpc" ];
        };
      };
      expect = [ ];
    }
    {
      name = "port forwarding: a hook as a string, a gateway";
      config.vpnNamespaces.wg = ok {
        portForwarding = {
          enable = true;
          gateway = "10.2.0.1";
          hook = "/etc/hooks/tell --port";
        };
      };
      expect = [ ];
    }
    {
      name = "port forwarding: gateway and hook without enable";
      config.vpnNamespaces.wg = ok {
        portForwarding = {
          gateway = "10.2.0.1";
          hook = [ "/bin/true" ];
        };
      };
      expect = [
        "portForwarding.gateway is set but portForwarding.enable is false"
        "portForwarding.hook is set but portForwarding.enable is false"
      ];
    }
    {
      name = "port forwarding: an IPv6 or prefixed gateway, a relative hook";
      config.vpnNamespaces = {
        wg = ok {
          portForwarding = {
            enable = true;
            gateway = "2001:db8::1";
            hook = "transmission-port-hook";
          };
        };
        two = ok {
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          portForwarding = {
            enable = true;
            gateway = "10.2.0.1/32";
            hook = [ "hook" "x" ];
          };
        };
      };
      expect = [
        "vpnNamespaces.wg.portForwarding.gateway = \"2001:db8::1\" is not an IPv4 address"
        "vpnNamespaces.wg.portForwarding.hook: the program must be an absolute path, not \"transmission-port-hook\""
        "vpnNamespaces.two.portForwarding.gateway = \"10.2.0.1/32\" is not an IPv4 address"
        "vpnNamespaces.two.portForwarding.hook: the program must be an absolute path, not \"hook\""
      ];
    }
    {
      name = "port forwarding: a line break in the hook";
      config.vpnNamespaces.wg = ok {
        portForwarding = {
          enable = true;
          hook = [ "/bin/hook" "a\nb" ];
        };
      };
      expect = [ "portForwarding.hook contains a line break" ];
    }
    {
      name = "a template service (no instance) cannot be confined";
      config = {
        vpnNamespaces.wg = ok { };
        systemd.services."worker@" = confined "wg";
      };
      expect = [ "\"worker@\" cannot be confined" ];
    }
  ];

  run =
    case:
    let
      messages = pure.problems (pure.evalConfig case.config);
      matched = e: length (filter (hasInfix e) messages) == 1;
      unexpected = filter (m: !any (e: hasInfix e m) case.expect) messages;
      ok = all matched case.expect && unexpected == [ ];
    in
    {
      inherit (case) name;
      inherit ok;
      detail =
        if ok then
          ""
        else
          "expected: ${concatStringsSep " | " case.expect}\n  got: ${concatStringsSep " | " messages}";
    };
in
map run cases
