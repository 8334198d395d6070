# configuration.nix
{ pkgs, ... }:
{
  # A ProtonVPN WireGuard configuration, kept out of the Nix store
  # (e.g. a sops-nix or agenix secret). Its DNS = 10.2.0.1 becomes the
  # only resolver the namespace can use.
  vpnNamespaces.proton = {
    enable = true;
    wireguardConfigFile = "/run/secrets/protonvpn.conf";
    # The LAN that may open the web UI.
    accessibleFrom = [ "192.168.1.0/24" ];
    # http://<this host>:9091 from the LAN, http://192.168.15.1:9091 from the host.
    portMappings = [
      {
        from = 9091;
        to = 9091;
      }
    ];
    # The peer port your provider forwards to you (set it in ProtonVPN's
    # port forwarding and in peer-port below).
    openVPNPorts = [
      {
        port = 51413;
        protocol = "both";
      }
    ];
  };

  systemd.services.transmission.vpnConfinement = {
    enable = true;
    vpnNamespace = "proton";
  };

  services.transmission = {
    enable = true;
    package = pkgs.transmission_4;
    settings = {
      # Listen on the namespace's end of the veth pair.
      rpc-bind-address = "192.168.15.1";
      # The host (through the bridge) and the LAN.
      rpc-whitelist = "127.0.0.1,192.168.15.5,192.168.1.*";
      peer-port = 51413;
    };
  };
}
