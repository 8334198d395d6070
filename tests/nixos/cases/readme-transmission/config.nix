# configuration.nix
{ config, pkgs, ... }:
{
  # A ProtonVPN WireGuard configuration made with port forwarding (NAT-PMP)
  # on, kept out of the Nix store (e.g. a sops-nix or agenix secret). Its
  # DNS = 10.2.0.1 becomes the only resolver the namespace can use, and is
  # the gateway that forwards a port to it.
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
    # The peer port ProtonVPN forwards: asked for and renewed, open on
    # proton0 only, and told to Transmission by the shipped hook whenever
    # it changes or the tunnel reconnects.
    portForwarding = {
      enable = true;
      hook = [
        "${config.vpnConfinement.package}/share/vpn-confinement/examples/transmission-port-hook"
        "--url"
        "http://192.168.15.1:9091/transmission/rpc"
      ];
    };
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
      # The hook (from the namespace's own address), the host (through the
      # bridge) and the LAN.
      rpc-whitelist = "127.0.0.1,192.168.15.1,192.168.15.5,192.168.1.*";
      # peer-port is the hook's; Transmission's own port mapping would ask
      # the wrong gateway.
      port-forwarding-enabled = false;
    };
  };
}
