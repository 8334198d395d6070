# SPDX-License-Identifier: MIT
# services.vpnConfinement.metrics with builtins only: its defaults, its
# problems (assertion messages) and what the module sets for it. The
# metrics themselves are `vpn-confinement status --format=prometheus`,
# written every interval by the package's vpn-confinement-metrics.timer
# into the node exporter's textfile directory (vpn-confinement(8),
# METRICS). module.nix applies this; tests/nixos/metrics-test.nix and
# module-wiring-test.nix check it.
let
  inherit (builtins) match;
in
rec {
  defaults = {
    enable = false;
    # Not the state directory of any service (the node exporter's
    # DynamicUser=, for one, reads it; 0755 root).
    directory = "/var/lib/prometheus-node-exporter-textfile";
    interval = "15s";
    configureNodeExporter = true;
  };
  fileName = "vpn-confinement.prom";

  # Assertion messages for a metrics setting (empty: fine). The directory
  # goes into a unit's Environment= and a tmpfiles rule: only plain path
  # characters, no "." or ".." component, no trailing "/".
  problems =
    m:
    (
      if match "(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+" m.directory == null then
        [
          "services.vpnConfinement.metrics.directory must be an absolute path of letters, digits and . _ - (no . or .. component, no trailing /), not \"${m.directory}\""
        ]
      else
        [ ]
    )
    ++ (
      if match "[0-9]+ ?(us|ms|s|sec|m|min|h|d)?( [0-9]+ ?(us|ms|s|sec|m|min|h|d)?)*" m.interval == null then
        [
          "services.vpnConfinement.metrics.interval must be a systemd time span such as 15s or 1min, not \"${m.interval}\""
        ]
      else
        [ ]
    );

  # What the module sets when metrics.enable is on.
  settings =
    { metrics, nodeExporterEnabled }:
    {
      # The package's timer, on; its interval in place of the unit's. A
      # drop-in: an empty time setting resets ALL the timer's times, so
      # both are written again (NixOS writes the keys sorted: OnBootSec's
      # reset first).
      timer = {
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnBootSec = [
            ""
            "15s"
          ];
          OnUnitActiveSec = metrics.interval;
        };
      };
      # The file its service writes (the unit's ExecStart= names
      # ${METRICS_FILE}).
      environment.METRICS_FILE = "${metrics.directory}/${fileName}";
      tmpfiles = [ "d ${metrics.directory} 0755 root root -" ];
      # The node exporter's textfile collector reads the directory.
      nodeExporter =
        if metrics.configureNodeExporter && nodeExporterEnabled then
          {
            enabledCollectors = [ "textfile" ];
            extraFlags = [ "--collector.textfile.directory=${metrics.directory}" ];
          }
        else
          null;
    };
}
