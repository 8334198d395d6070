# SPDX-License-Identifier: MIT
# NixOS VM test of the module, end to end: a VPN provider, a host with two
# confined namespaces (Transmission in one, as in the README), a LAN client.
#
#   LAN (vlan 1)   client 192.168.1.10 ── 192.168.1.2 host
#   "internet"     host 192.168.2.2 ── 192.168.2.1 server (vlan 2)
#   tunnels        server wg0 10.66.0.1; namespace wg 10.66.0.2, two 10.66.0.3
#
# Run it where Nix can build VMs:  nix build .#checks.x86_64-linux.vm-test -L
# (or everything: nix flake check -L). Takes { module } (the NixOS module).
{ module }:
let
  keys = import ./snakeoil-keys.nix;

  serverAddr = "192.168.2.1";
  hostWanAddr = "192.168.2.2";
  hostLanAddr = "192.168.1.2";
  clientAddr = "192.168.1.10";

  # The VPN server answers DNS for this name only (10.66.0.99); the LAN's
  # resolver (on the client, the host's own resolver) only for lan-only.test.
  wgQuickConfig = key: address: ''
    [Interface]
    PrivateKey = ${key}
    Address = ${address}/32
    DNS = 10.66.0.1

    [Peer]
    PublicKey = ${keys.server.publicKey}
    Endpoint = ${serverAddr}:51820
    AllowedIPs = 0.0.0.0/0
    PersistentKeepalive = 5
  '';
in
{
  name = "vpn-confinement";
  meta.maintainers = [ ];

  nodes = {
    # The VPN provider: WireGuard, a DNS server and a web server that logs
    # who asks (python's http.server logs the client address).
    server =
      { lib, pkgs, ... }:
      {
        virtualisation.vlans = [ 2 ];
        networking.interfaces.eth1.ipv4.addresses = lib.mkForce [
          {
            address = serverAddr;
            prefixLength = 24;
          }
        ];
        networking.firewall.enable = false;

        networking.wireguard.interfaces.wg0 = {
          ips = [ "10.66.0.1/24" ];
          listenPort = 51820;
          privateKeyFile = toString (pkgs.writeText "server-test.key" keys.server.privateKey);
          peers = [
            {
              publicKey = keys.wg.publicKey;
              allowedIPs = [ "10.66.0.2/32" ];
            }
            {
              publicKey = keys.two.publicKey;
              allowedIPs = [ "10.66.0.3/32" ];
            }
          ];
        };

        services.dnsmasq = {
          enable = true;
          resolveLocalQueries = false;
          settings = {
            # On the tunnel (the VPN's DNS) and on the server's public
            # address (another DNS server, reachable through the tunnel).
            listen-address = [
              "10.66.0.1"
              serverAddr
            ];
            bind-dynamic = true;
            no-resolv = true;
            address = [ "/vpn-only.test/10.66.0.99" ];
          };
        };

        systemd.services.web = {
          wantedBy = [ "multi-user.target" ];
          serviceConfig.ExecStart = "${pkgs.python3}/bin/python3 -u -m http.server --bind 0.0.0.0 --directory ${pkgs.writeTextDir "index.html" "vpn server\n"} 8000";
        };

        environment.systemPackages = [
          pkgs.tcpdump
          pkgs.netcat
          pkgs.wireguard-tools
        ];
      };

    # The LAN: a client of the web UI, and the LAN's DNS resolver.
    client =
      { lib, pkgs, ... }:
      {
        virtualisation.vlans = [ 1 ];
        networking.interfaces.eth1.ipv4.addresses = lib.mkForce [
          {
            address = clientAddr;
            prefixLength = 24;
          }
        ];
        networking.firewall.enable = false;
        services.dnsmasq = {
          enable = true;
          resolveLocalQueries = false;
          settings = {
            listen-address = [ clientAddr ];
            bind-dynamic = true;
            no-resolv = true;
            address = [ "/lan-only.test/192.168.1.99" ];
          };
        };
        environment.systemPackages = [ pkgs.curl ];
      };

    host =
      { lib, pkgs, ... }:
      let
        # One probe, several confined (and one unconfined) services that run
        # it: the test writes "MODE ARG..." to /run/probe/cmd, then starts a
        # service, which succeeds or fails with the probe.
        probe = pkgs.writeShellScript "probe" ''
          set -euo pipefail
          read -r mode a b </run/probe/cmd
          case $mode in
            http) exec curl -fsS --max-time 5 "$a" ;;
            dig)
              out=$(dig +time=2 +tries=1 +short "@$a" "$b")
              echo "$out"
              test -n "$out"
              ;;
            getent) getent hosts "$a" | grep -qw "$b" ;;
            exists) test -e "$a" ;;
            *) echo "unknown probe: $mode" >&2; exit 2 ;;
          esac
        '';
        probeService = extra: lib.recursiveUpdate {
          path = [
            pkgs.curl
            pkgs.dig
            pkgs.getent
            pkgs.gnugrep
          ];
          serviceConfig = {
            Type = "oneshot";
            ExecStart = probe;
          };
        } extra;
        confinedIn = ns: {
          vpnConfinement = {
            enable = true;
            vpnNamespace = ns;
          };
        };
      in
      {
        imports = [ module ];

        virtualisation.vlans = [
          1
          2
        ];
        virtualisation.memorySize = 1536;
        networking.interfaces.eth1.ipv4.addresses = lib.mkForce [
          {
            address = hostLanAddr;
            prefixLength = 24;
          }
        ];
        networking.interfaces.eth2.ipv4.addresses = lib.mkForce [
          {
            address = hostWanAddr;
            prefixLength = 24;
          }
        ];
        # The host resolves through the LAN's resolver, which the confined
        # services must not reach.
        networking.nameservers = [ clientAddr ];

        # The wg-quick files, as a secrets manager would leave them: outside
        # the store's paths, mode 0400 (with a mode, /etc gets a copy; the
        # test's keys are in the store anyway, being public test keys).
        environment.etc."wg-test/wg.conf" = {
          mode = "0400";
          text = wgQuickConfig keys.wg.privateKey "10.66.0.2";
        };
        environment.etc."wg-test/two.conf" = {
          mode = "0400";
          text = wgQuickConfig keys.two.privateKey "10.66.0.3";
        };

        vpnNamespaces.wg = {
          enable = true;
          wireguardConfigFile = "/etc/wg-test/wg.conf";
          accessibleFrom = [ "192.168.1.0/24" ];
          portMappings = [
            {
              from = 9091;
              to = 9091;
            }
          ];
          openVPNPorts = [
            {
              port = 51413;
              protocol = "both";
            }
          ];
        };

        vpnNamespaces.two = {
          enable = true;
          wireguardConfigFile = "/etc/wg-test/two.conf";
          namespaceAddress = "192.168.16.1";
          bridgeAddress = "192.168.16.5";
          accessibleFrom = [ "192.168.1.0/24" ];
          portMappings = [
            {
              from = 8081;
              to = 8080;
            }
          ];
        };

        # The README's example.
        services.transmission = {
          enable = true;
          package = pkgs.transmission_4;
          settings = {
            rpc-bind-address = "192.168.15.1";
            rpc-whitelist = "127.0.0.1,192.168.15.5,192.168.1.*";
            peer-port = 51413;
          };
        };
        systemd.services.transmission = confinedIn "wg";

        systemd.services.echo-two = confinedIn "two" // {
          wantedBy = [ "multi-user.target" ];
          serviceConfig.ExecStart = "${pkgs.python3}/bin/python3 -m http.server --bind 0.0.0.0 --directory ${pkgs.writeTextDir "index.html" "namespace two\n"} 8080";
        };

        # The README's hardening override: a plain value beats the module's
        # default for that one setting.
        systemd.services.probe = probeService (
          confinedIn "wg" // { serviceConfig.ProtectHome = false; }
        );
        systemd.services.probe-two = probeService (confinedIn "two");
        # The control: the same probe, not confined.
        systemd.services.probe-host = probeService { };

        environment.systemPackages = [
          pkgs.curl
          pkgs.dig
        ];

        # The same host with Transmission's web UI moved to host port 9092:
        # switching to it must restart namespace wg with its new ini, and
        # leave namespace two alone.
        specialisation.newport.configuration = {
          vpnNamespaces.wg.portMappings = lib.mkForce [
            {
              from = 9092;
              to = 9091;
            }
          ];
        };
      };
  };

  testScript = ''
    import shlex


    def probe(unit: str, *args: str) -> str:
        """The command that runs the probe "args" in service "unit"."""
        host.succeed("mkdir -p /run/probe && echo " + shlex.quote(" ".join(args)) + " > /run/probe/cmd")
        return f"systemctl start {unit}.service"


    def seen_by_server(source: str, marker: str) -> str:
        """A command that succeeds when the web server logged marker from source."""
        return f"journalctl -u web.service | grep -F '{source} - - ' | grep -qF '{marker}'"


    web = "http://${serverAddr}:8000/"

    start_all()
    server.wait_for_unit("wireguard-wg0.service")
    server.wait_for_unit("web.service")
    server.wait_for_unit("dnsmasq.service")
    client.wait_for_unit("dnsmasq.service")
    host.wait_for_unit("vpn-ns@wg.service")
    host.wait_for_unit("vpn-ns@two.service")
    host.wait_for_unit("transmission.service")
    host.wait_for_unit("echo-two.service")

    with subtest("the module wrote the ini files; the services run in their namespaces"):
        host.succeed("grep -qx 'Unit=transmission.service' /etc/vpn-confinement/wg.ini")
        host.succeed("grep -qx 'Unit=echo-two.service' /etc/vpn-confinement/two.ini")
        host.succeed("grep -qx 'Hardening=no' /etc/vpn-confinement/wg.ini")
        host.succeed('test "$(ip netns identify "$(systemctl show -p MainPID --value transmission)")" = wg')
        host.succeed('test "$(ip netns identify "$(systemctl show -p MainPID --value echo-two)")" = two')
        # Control: an unconfined service is in no named namespace.
        host.succeed('test -z "$(ip netns identify "$(systemctl show -p MainPID --value nscd)")"')

    with subtest("tunnel: the server sees confined traffic from the tunnel address"):
        host.wait_until_succeeds(probe("probe", "http", web + "?probe=tunnel"), timeout=120)
        server.succeed(seen_by_server("10.66.0.2", "probe=tunnel"))
        server.fail(seen_by_server("${hostWanAddr}", "probe=tunnel"))
        # Control: the same request unconfined comes from the host's address.
        host.succeed(probe("probe-host", "http", web + "?probe=direct"))
        server.succeed(seen_by_server("${hostWanAddr}", "probe=direct"))

    with subtest("a second namespace: its own tunnel, its own port mapping"):
        host.wait_until_succeeds(probe("probe-two", "http", web + "?probe=two"), timeout=120)
        server.succeed(seen_by_server("10.66.0.3", "probe=two"))
        client.succeed("curl -fsS --max-time 10 http://${hostLanAddr}:8081/ | grep -qx 'namespace two'")

    with subtest("port mapping: Transmission's RPC from the LAN client and from the host"):
        code = client.succeed(
            "curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://${hostLanAddr}:9091/transmission/rpc"
        )
        # 409 and a session id: Transmission itself answered.
        assert code == "409", f"expected Transmission's 409, got {code!r}"
        host.succeed(
            "curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://192.168.15.1:9091/transmission/rpc | grep -qx 409"
        )

    with subtest("open VPN ports: open through the tunnel, other ports closed"):
        server.succeed("nc -z -w 5 10.66.0.2 51413")
        # echo-two listens on 8080 (the client just reached it through the
        # port mapping), but 8080 is no open VPN port of namespace two.
        server.fail("nc -z -w 3 10.66.0.3 8080")

    with subtest("DNS: only the VPN's server, only through the tunnel"):
        host.succeed(probe("probe", "getent", "vpn-only.test", "10.66.0.99"))
        host.succeed(probe("probe", "dig", "10.66.0.1", "vpn-only.test"))
        # The host's resolver knows lan-only.test; a confined service cannot ask it.
        host.succeed(probe("probe-host", "getent", "lan-only.test", "192.168.1.99"))
        host.fail(probe("probe", "getent", "lan-only.test", "192.168.1.99"))
        host.fail(probe("probe", "dig", "${clientAddr}", "lan-only.test"))
        # Another DNS server through the tunnel: the address is reachable, DNS to it is not.
        host.succeed(probe("probe-host", "dig", "${serverAddr}", "vpn-only.test"))
        host.succeed(probe("probe", "http", web + "?probe=dns-control"))
        host.fail(probe("probe", "dig", "${serverAddr}", "vpn-only.test"))
        # The host's resolver socket is hidden.
        host.succeed(probe("probe-host", "exists", "/run/nscd/socket"))
        host.fail(probe("probe", "exists", "/run/nscd/socket"))

    with subtest("hardening: the module's list applies; serviceConfig.ProtectHome = false wins"):
        host.succeed("systemctl show -p ProtectHome --value probe | grep -qx no")
        host.succeed("systemctl show -p ProtectKernelLogs --value probe | grep -qx yes")
        host.succeed("systemctl show -p ProtectHome --value probe-two | grep -qx yes")
        host.succeed("systemctl show -p ProtectHome --value probe-host | grep -qx no")
        host.succeed("mkdir -p /home/probe && touch /home/probe/marker")
        host.succeed(probe("probe", "exists", "/home/probe/marker"))
        host.fail(probe("probe-two", "exists", "/home/probe/marker"))
        # No CAP_NET_ADMIN or CAP_NET_RAW in confined services (control: unconfined).
        host.fail("systemctl show -p CapabilityBoundingSet --value probe | grep -qw cap_net_admin")
        host.fail("systemctl show -p CapabilityBoundingSet --value probe | grep -qw cap_net_raw")
        host.succeed("systemctl show -p CapabilityBoundingSet --value probe-host | grep -qw cap_net_admin")

    with subtest("kill switch: the server's WireGuard down, nothing leaves outside the tunnel"):
        server.succeed("systemctl stop wireguard-wg0.service")
        server.succeed(
            "systemd-run --unit=leakcap tcpdump -n -U -i eth1 -w /tmp/leak.pcap 'tcp port 8000 or port 53'"
        )
        server.wait_until_succeeds("journalctl -u leakcap.service | grep -q 'listening on eth1'")
        host.fail(probe("probe", "http", web + "?probe=killswitch"))
        host.fail(probe("probe", "dig", "10.66.0.1", "vpn-only.test"))
        host.fail(probe("probe-two", "http", web + "?probe=killswitch-two"))
        # The confined services keep running, confined.
        host.succeed("systemctl is-active transmission.service echo-two.service")
        server.succeed("test $(tcpdump -n -r /tmp/leak.pcap 2>/dev/null | wc -l) -eq 0")
        # Control: the capture does see such a request when it leaves unconfined.
        host.succeed(probe("probe-host", "http", web + "?probe=capture-control"))
        server.wait_until_succeeds("test $(tcpdump -n -r /tmp/leak.pcap 2>/dev/null | wc -l) -gt 0")
        server.succeed("systemctl stop leakcap.service")
        server.fail("journalctl -u web.service | grep -qF 'probe=killswitch'")

    with subtest("the tunnel resumes when the server is back"):
        server.succeed("systemctl start wireguard-wg0.service")
        host.wait_until_succeeds(probe("probe", "http", web + "?probe=resumed"), timeout=120)
        server.succeed(seen_by_server("10.66.0.2", "probe=resumed"))

    with subtest("switch-to-configuration: a changed namespace restarts with its new ini"):
        def started(unit: str) -> str:
            return host.succeed(f"systemctl show -p ActiveEnterTimestampMonotonic --value {unit}").strip()

        wg_before = started("vpn-ns@wg.service")
        two_before = started("vpn-ns@two.service")
        echo_pid = host.succeed("systemctl show -p MainPID --value echo-two.service").strip()
        host.succeed("/run/booted-system/specialisation/newport/bin/switch-to-configuration test")
        host.succeed("grep -qx 'PortMapping=9092:9091:tcp' /etc/vpn-confinement/wg.ini")
        host.wait_for_unit("vpn-ns@wg.service")
        host.wait_for_unit("transmission.service")
        assert started("vpn-ns@wg.service") != wg_before, "vpn-ns@wg was not restarted"
        assert started("vpn-ns@two.service") == two_before, "vpn-ns@two was restarted"
        host.succeed(f"test $(systemctl show -p MainPID --value echo-two.service) = {echo_pid}")
        client.wait_until_succeeds(
            "curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://${hostLanAddr}:9092/transmission/rpc | grep -qx 409",
            timeout=120,
        )
        client.fail("curl -s --max-time 5 http://${hostLanAddr}:9091/transmission/rpc")
        # Still confined after the restart.
        host.succeed('test "$(ip netns identify "$(systemctl show -p MainPID --value transmission)")" = wg')
  '';
}
