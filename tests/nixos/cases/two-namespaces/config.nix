# Two namespaces side by side, each with its own subnet and mapped ports, a
# disabled third one (not written), services sorted by unit name, and a
# service that is not confined.
{ lib, ... }:
{
  vpnNamespaces = {
    mullvad = {
      enable = true;
      wireguardConfigFile = "/etc/wireguard/mullvad-se.conf";
      namespaceAddress = "192.168.16.1";
      bridgeAddress = "192.168.16.5";
      namespaceAddressIPv6 = "fd93:9701:1d01::2";
      bridgeAddressIPv6 = "fd93:9701:1d01::1";
      accessibleFrom = [
        "10.0.0.0/8"
        "fd25:9ab6:6133::/64"
      ];
      portMappings = [
        {
          from = 8080;
          to = 8080;
        }
        {
          from = 9696;
          to = 9696;
          protocol = "tcp";
        }
      ];
    };
    proton = {
      enable = true;
      wireguardConfigFile = "/run/agenix/proton";
      portMappings = [
        {
          from = 9091;
          to = 9091;
        }
      ];
      openVPNPorts = [ { port = 51413; } ];
    };
    spare = {
      enable = false;
      wireguardConfigFile = "/run/secrets/spare.conf";
    };
  };

  systemd.services = {
    qbittorrent.vpnConfinement = {
      enable = true;
      vpnNamespace = "proton";
    };
    # "prowlarr-a.service" sorts before "prowlarr.service" ('-' < '.').
    prowlarr.vpnConfinement = {
      enable = true;
      vpnNamespace = "mullvad";
    };
    prowlarr-a.vpnConfinement = {
      enable = true;
      vpnNamespace = "mullvad";
    };
    "sabnzbd@main".vpnConfinement = {
      enable = lib.mkDefault true;
      vpnNamespace = "mullvad";
    };
    jellyfin.vpnConfinement = {
      enable = false;
      vpnNamespace = "mullvad";
    };
    nginx.serviceConfig.ProtectHome = true;
  };
}
