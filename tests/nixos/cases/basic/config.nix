{
  # The namespace "wg": 1 to 7 characters, a-z and 0-9, starting with a letter.
  vpnNamespaces.wg = {
    enable = true;
    # The wg-quick config from your VPN provider, outside the Nix store.
    wireguardConfigFile = "/run/secrets/wg0.conf";
    # Besides this host, who may reach the mapped ports.
    accessibleFrom = [ "192.168.1.0/24" ];
    # Port 9091 of the host leads to port 9091 in the namespace.
    portMappings = [
      {
        from = 9091;
        to = 9091;
      }
    ];
    # Besides the tunnel, what it may reach: Jellyfin on the LAN, one port.
    allowedEgress = [ "192.168.1.10:8096:tcp" ];
  };

  # Run transmission.service in it.
  systemd.services.transmission.vpnConfinement = {
    enable = true;
    vpnNamespace = "wg";
  };
}
