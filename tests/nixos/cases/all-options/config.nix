# Every option of the module set to a value other than its default, so the
# ini must show a key for each (check-nix.sh checks that against the option
# list in nixos/options.nix). wireguardConfigFile is a path literal here: it
# must be written as its string, never copied into the store.
{
  vpnNamespaces.all = {
    enable = true;
    wireguardConfigFile = /. + "/var/lib/secrets/all-options.conf";
    wireguardConfigFiles = [
      "/var/lib/secrets/all-options-2.conf"
      (/. + "/var/lib/secrets/all-options-3.conf")
    ];
    health = {
      timeout = "1min 30s";
      failoverAfter = 3;
      failbackAfter = "2h";
      address = "10.64.0.1";
    };
    namespaceAddress = "10.99.0.2/29";
    bridgeAddress = "10.99.0.1/29";
    namespaceAddressIPv6 = "fd00:99::2/120";
    bridgeAddressIPv6 = "fd00:99::1/120";
    accessibleFrom = [
      "192.168.0.0/16"
      "172.16.5.7"
      "fd25:9ab6:6133::/48"
    ];
    portMappings = [
      {
        from = 8080;
        to = 80;
        protocol = "tcp";
      }
      {
        from = 5353;
        to = 53;
        protocol = "udp";
      }
      {
        from = 6881;
        to = 6881;
        protocol = "both";
      }
    ];
    openVPNPorts = [
      {
        port = 51413;
        protocol = "both";
      }
      {
        port = 6771;
        protocol = "udp";
      }
      { port = 22000; }
    ];
    allowedEgress = [
      "192.168.1.10:8096:tcp"
      "10.20.0.0/16"
      "[fd25:9ab6:6133::10]:5432:both"
    ];
    # A hook as a list: each word quoted for the ini, with what the
    # splitter would read otherwise escaped (\ " % $).
    portForwarding = {
      enable = true;
      gateway = "10.2.0.1";
      hook = [
        "/etc/vpn-confinement/hook"
        "--url"
        "http://192.168.15.1:9091/transmission/rpc"
        "a \"quoted\" \\ 100% $HOME"
      ];
    };
  };

  systemd.services.everything.vpnConfinement = {
    enable = true;
    vpnNamespace = "all";
  };
}
