# SPDX-License-Identifier: MIT
# The options of the vpn-confinement NixOS module: vpnNamespaces.<name> and
# systemd.services.<name>.vpnConfinement. What they do lives in module.nix.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  defaults = import ./defaults.nix;

  protocol = mkOption {
    type = types.enum [
      "tcp"
      "udp"
      "both"
    ];
    default = defaults.protocol;
    example = "both";
    description = "Transport protocol: `tcp`, `udp` or `both`.";
  };
  portNumber = types.ints.between 1 65535;

  namespaceOptions =
    { name, ... }:
    {
      options = {
        enable = mkOption {
          type = types.bool;
          default = defaults.enable;
          example = true;
          description = ''
            Whether to create the VPN network namespace `${name}`: a network
            namespace whose only way out is the WireGuard interface
            `${name}0`, with a kill switch (nftables, policy drop) loaded
            before any interface exists in it. A veth pair and the host
            bridge `${name}-br` connect it to the host, for port mappings and
            for access from `accessibleFrom`; new connections from the
            namespace never leave through them.

            The namespace name is at most 7 characters (`[a-z][a-z0-9]*`),
            because the interface names derived from it must fit the
            kernel's 15-character limit.
          '';
        };

        wireguardConfigFile = mkOption {
          # A path literal is turned into its string with toString, which
          # does not copy the file into the store.
          type = types.coercedTo types.path toString types.str;
          example = "/run/secrets/wg0.conf";
          description = ''
            Absolute path of a wg-quick configuration file (as your VPN
            provider hands it out: `[Interface]` with `PrivateKey`,
            `Address` and `DNS`, and one or more `[Peer]`s). It is read when
            the namespace starts and is never copied into the Nix store
            (which every user can read): give a path string such as
            `"/run/secrets/wg0.conf"`, for example from sops-nix or agenix.
            `PreUp`/`PostUp`/`PreDown`/`PostDown` and `SaveConfig` are
            rejected, since they run shell code. The `DNS` servers become
            the only ones the namespace can query, and only through the
            tunnel.
          '';
        };

        wireguardConfigFiles = mkOption {
          type = types.listOf (types.coercedTo types.path toString types.str);
          default = defaults.wireguardConfigFiles;
          example = [
            "/run/secrets/wg-ch.conf"
            "/run/secrets/wg-nl.conf"
          ];
          description = ''
            More wg-quick configuration files (other servers, other
            providers), in order of preference after `wireguardConfigFile`,
            which stays the preferred one. Every file is checked when the
            tunnel starts; the tunnel uses the first, fails over to the next
            after `health.failoverAfter` failed recoveries, and goes back to
            the first once its server answers again (`health.failbackAfter`).
            The active config's `Address` and `DNS` are what the namespace's
            resolv.conf and firewall allow; a switch rewrites both, the
            services keep running. Like `wireguardConfigFile`, paths outside
            the Nix store.
          '';
        };

        health = mkOption {
          type = types.submodule {
            options = {
              timeout = mkOption {
                type = types.nullOr types.str;
                default = defaults.health.timeout;
                example = "30s";
                description = ''
                  How long the tunnel may show no sign of life (no handshake,
                  nothing received from the peer, while something was sent)
                  before its supervisor recovers it: first in place (the
                  endpoint resolved again, the peer set again, nothing else
                  touched), then by rebuilding the tunnel, without restarting
                  any confined service. A systemd time span ("90s",
                  "2min", "infinity" for never), at least 10 s; `null` for
                  the default, 1 minute. An idle tunnel is probed (a DNS
                  query to its DNS server) when quiet.
                '';
              };
              failoverAfter = mkOption {
                type = types.nullOr (types.ints.between 1 100);
                default = defaults.health.failoverAfter;
                example = 1;
                description = ''
                  Failed recoveries on a config before the next one of
                  `wireguardConfigFiles` is tried; `null` for the default, 2.
                '';
              };
              failbackAfter = mkOption {
                type = types.nullOr types.str;
                default = defaults.health.failbackAfter;
                example = "1h";
                description = ''
                  Time on a later config before the first one is tried
                  again: a handshake with its server on a device of its own
                  beside the tunnel, and the switch back only when it
                  answers. A systemd time span, at least 10 s, or
                  "infinity" for never; `null` for the default, 5 minutes.
                '';
              };
              address = mkOption {
                type = types.nullOr types.str;
                default = defaults.health.address;
                example = "10.2.0.1";
                description = ''
                  An IPv4 or IPv6 address the supervisor pings through the
                  tunnel when it needs a sign of life, instead of querying
                  the config's DNS server. It must be reached through the
                  tunnel (not in `accessibleFrom` or the namespace's
                  subnets). `null`: the DNS server.
                '';
              };
            };
          };
          default = defaults.health;
          example = {
            timeout = "30s";
            failoverAfter = 1;
            failbackAfter = "1h";
          };
          description = ''
            The tunnel's health checks: when a silent tunnel is recovered,
            when it fails over to the next config, when it goes back
            (vpn-confinement.ini(5), HealthCheckTimeout=, FailoverAfter=,
            FailbackAfter=, HealthCheckAddress=). Other units can order
            after `vpn-online@<name>.service`, reached once the tunnel has
            completed its first handshake.
          '';
        };

        accessibleFrom = mkOption {
          type = types.listOf types.str;
          default = defaults.accessibleFrom;
          example = [
            "192.168.1.0/24"
            "fd25:9ab6:6133::/64"
          ];
          description = ''
            IPv4 and IPv6 addresses and CIDR prefixes (host bits zero) from
            which the namespace's mapped ports can be reached, e.g. your
            LAN. Replies to them go back over the bridge; the namespace
            still cannot open connections to them, and DNS never goes to
            them.
          '';
        };

        portMappings = mkOption {
          type = types.listOf (
            types.submodule {
              options = {
                from = mkOption {
                  type = portNumber;
                  example = 9091;
                  description = "Port on the host.";
                };
                to = mkOption {
                  type = portNumber;
                  example = 9091;
                  description = "Port inside the namespace.";
                };
                inherit protocol;
              };
            }
          );
          default = defaults.portMappings;
          example = [
            {
              from = 9091;
              to = 9091;
              protocol = "tcp";
            }
          ];
          description = ''
            Ports on the host forwarded to ports in the namespace, such as a
            web UI. They are reachable from the host itself and from
            `accessibleFrom`. A host port may be mapped only once across all
            namespaces (for a shared protocol).
          '';
        };

        openVPNPorts = mkOption {
          type = types.listOf (
            types.submodule {
              options = {
                port = mkOption {
                  type = portNumber;
                  example = 51413;
                  description = "Port to open on the WireGuard interface.";
                };
                inherit protocol;
              };
            }
          );
          default = defaults.openVPNPorts;
          example = [
            {
              port = 51413;
              protocol = "both";
            }
          ];
          description = ''
            Ports that accept incoming connections through the VPN tunnel,
            e.g. a torrent client's peer port forwarded by your provider.
          '';
        };

        allowedEgress = mkOption {
          type = types.listOf types.str;
          default = defaults.allowedEgress;
          example = [
            "192.168.1.0/24"
            "192.168.1.10:8096:tcp"
            "fd25:9ab6:6133::203"
            "[fd25:9ab6:6133::10]:5432:tcp"
          ];
          description = ''
            Destinations on the LAN or the host that the namespace may open
            connections to outside the tunnel, e.g. a media server or a
            database: an IPv4 or IPv6 address or CIDR prefix (host bits
            zero), optionally with `:port` and `:tcp`, `:udp` or `:both`
            (default `tcp`); an IPv6 destination with a port in brackets
            (`"[fd00::10]:8096:tcp"`). Traffic to them is routed over the
            veth pair instead of the tunnel, allowed by the namespace's
            kill switch and by the host's guard (which forwards it with the
            host's address, or accepts it when the destination is one of
            the host's own addresses), also while the tunnel is down. All
            other outgoing traffic still only leaves through the tunnel, and
            DNS never takes this path: ports 53 and 853 are refused, and a
            destination that contains one of the WireGuard config's DNS
            servers or its endpoint makes the tunnel refuse to start (the
            config is a secret the build cannot read). An IPv6 destination
            needs `namespaceAddressIPv6` and `bridgeAddressIPv6`. The host's
            own firewall still applies to its services.
          '';
        };

        namespaceAddress = mkOption {
          type = types.str;
          default = defaults.namespaceAddress;
          example = "192.168.16.1";
          description = ''
            IPv4 address of the namespace's end of the veth pair, with an
            optional `/prefix` (default `/24`). Services in the namespace
            are reachable from the host at this address. Each namespace
            needs its own subnet.
          '';
        };

        bridgeAddress = mkOption {
          type = types.str;
          default = defaults.bridgeAddress;
          example = "192.168.16.5";
          description = ''
            IPv4 address of the host bridge `<name>-br`, in the same subnet
            (and with the same prefix) as `namespaceAddress`.
          '';
        };

        namespaceAddressIPv6 = mkOption {
          type = types.nullOr types.str;
          default = defaults.namespaceAddressIPv6;
          example = "fd93:9701:1d00::2";
          description = ''
            IPv6 address of the namespace's end of the veth pair, with an
            optional `/prefix` (default `/64`), or `null` for no IPv6 on the
            veth pair. Set both this and `bridgeAddressIPv6`, or neither.
            (IPv6 through the tunnel depends only on the WireGuard config.)
          '';
        };

        bridgeAddressIPv6 = mkOption {
          type = types.nullOr types.str;
          default = defaults.bridgeAddressIPv6;
          example = "fd93:9701:1d00::1";
          description = ''
            IPv6 address of the host bridge, in the subnet of
            `namespaceAddressIPv6`, or `null`.
          '';
        };

        portForwarding = mkOption {
          type = types.submodule {
            options = {
              enable = mkOption {
                type = types.bool;
                default = defaults.portForwardingOptions.enable;
                example = true;
                description = ''
                  Whether to ask the VPN provider for a forwarded port over
                  NAT-PMP (ProtonVPN, and any provider whose gateway speaks
                  it) and keep it: `vpn-portfwd@${name}.service` asks while
                  the tunnel is up, renews the mapping every 45 s, opens the
                  port on `${name}0` (and only there), publishes it in
                  `/run/vpn-confinement/${name}/forwarded-port` and
                  `vpn-confinement status`, and runs `hook` with it after
                  every change and every tunnel reconnect. It replaces an
                  `openVPNPorts` entry for the client's peer port.
                '';
              };
              gateway = mkOption {
                type = types.nullOr types.str;
                default = defaults.portForwardingOptions.gateway;
                example = "10.2.0.1";
                description = ''
                  The NAT-PMP gateway's IPv4 address, or `null` for the
                  tunnel's: the first IPv4 `DNS` server of the WireGuard
                  configuration (ProtonVPN's `10.2.0.1`).
                '';
              };
              hook = mkOption {
                type = types.nullOr (types.either types.str (types.listOf types.str));
                default = defaults.portForwardingOptions.hook;
                example = [
                  "/run/current-system/sw/share/vpn-confinement/examples/transmission-port-hook"
                  "--url"
                  "http://192.168.15.1:9091/transmission/rpc"
                ];
                description = ''
                  The command that tells the client the port, run inside the
                  namespace with the port as its last argument and in
                  `$VPN_CONFINEMENT_FORWARDED_PORT`, as root without any
                  capability, never through a shell: a list of arguments
                  (each quoted for the ini), or one string split as
                  systemd splits `ExecStart=` (see
                  `vpn-confinement.ini(5)`). The program must be an
                  absolute path. The package ships hooks for Transmission
                  and qBittorrent in
                  `''${config.vpnConfinement.package}/share/vpn-confinement/examples/`.
                '';
              };
            };
          };
          default = defaults.portForwarding;
          description = "Provider port forwarding (NAT-PMP) for the namespace's client.";
        };
      };
    };
in
{
  options.vpnNamespaces = mkOption {
    type = types.attrsOf (types.submodule namespaceOptions);
    default = { };
    description = ''
      VPN network namespaces, by name (1 to 7 characters, `[a-z][a-z0-9]*`).
      Each enabled one is written to `/etc/vpn-confinement/<name>.ini` and
      started by `vpn-ns@<name>.service`; confine services in it with
      `systemd.services.<service>.vpnConfinement`.
    '';
  };

  options.systemd.services = mkOption {
    type = types.attrsOf (
      types.submodule {
        options.vpnConfinement = {
          enable = mkOption {
            type = types.bool;
            default = false;
            example = true;
            description = ''
              Whether to confine this service in a VPN network namespace:
              it runs with `NetworkNamespacePath=/run/netns/<namespace>`
              (and fails rather than start outside it), can only reach
              the internet through the tunnel, resolves names only through
              the VPN's DNS servers, and gets the module's hardening
              settings at priority 1250, weaker than `mkDefault`: a plain
              `serviceConfig.<Setting> = ...;` overrides any of them, and
              so does the service's own module, even with `mkDefault`.
            '';
          };
          vpnNamespace = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "wg";
            description = ''
              Name of the enabled `vpnNamespaces` entry to confine the
              service in.
            '';
          };
        };
      }
    );
  };

  options.services.vpnConfinement.metrics =
    let
      d = (import ./metrics.nix).defaults;
    in
    {
      enable = mkOption {
        type = types.bool;
        default = d.enable;
        example = true;
        description = ''
          Whether to write the metrics of every VPN namespace (tunnel up,
          handshake age, bytes through the tunnel, packets dropped by the
          kill switch, the DNS rules and the host guard, confined units;
          vpn-confinement(8), METRICS) for Prometheus every `interval`,
          into `directory`/vpn-confinement.prom, the textfile collector's
          directory of the node exporter. Turns on the package's
          `vpn-confinement-metrics.timer`.
        '';
      };
      directory = mkOption {
        type = types.str;
        default = d.directory;
        example = "/var/lib/node-exporter";
        description = ''
          The node exporter's textfile directory (made 0755 root if
          missing). With `configureNodeExporter` and
          `services.prometheus.exporters.node.enable`, the node exporter
          is told to read it.
        '';
      };
      interval = mkOption {
        type = types.str;
        default = d.interval;
        example = "1min";
        description = "How often the metrics are written: a systemd time span.";
      };
      configureNodeExporter = mkOption {
        type = types.bool;
        default = d.configureNodeExporter;
        example = false;
        description = ''
          When `services.prometheus.exporters.node.enable` is on, add the
          `textfile` collector to its `enabledCollectors` and
          `--collector.textfile.directory=<directory>` to its `extraFlags`.
          Turn it off if you configure the textfile directory yourself (and
          set `directory` to it).
        '';
      };
    };
}
