# SPDX-License-Identifier: MIT
# services.vpnConfinement.metrics, with builtins only: the options
# declared in nixos/options.nix are exactly these four, with metrics.nix's
# defaults; which directories and intervals it refuses. What the module
# sets for it is checked in module-wiring-test.nix.
let
  inherit (builtins) attrNames mapAttrs toJSON;
  metrics = import ../../nixos/metrics.nix;
  # options.nix's other options are never looked at (Nix is lazy): the
  # two types these use are enough of nixpkgs' lib.
  lib = {
    types = {
      bool = "bool";
      str = "str";
    };
    mkOption = o: o;
  };
  declared = (import ../../nixos/options.nix { inherit lib; }).options.services.vpnConfinement.metrics;

  row = name: ok: detail: { inherit name ok detail; };
  problems = m: metrics.problems (metrics.defaults // m);
  accepted = m: row "accepted: ${toJSON m}" (problems m == [ ]) (toJSON (problems m));
  refused = m: row "refused: ${toJSON m}" (builtins.length (problems m) == 1) (toJSON (problems m));
in
[
  (row "the metrics options are enable, directory, interval, configureNodeExporter" (
    attrNames declared == [
      "configureNodeExporter"
      "directory"
      "enable"
      "interval"
    ]
  ) (toJSON (attrNames declared)))
  (row "their defaults are metrics.nix's" (mapAttrs (_: o: o.default) declared == metrics.defaults) (
    toJSON (mapAttrs (_: o: o.default) declared)
  ))
  (row "off by default" (!metrics.defaults.enable) "")
  (accepted { })
  (accepted { directory = "/var/lib/node_exporter/textfile_collector"; })
  (accepted { directory = "/srv/prom.d"; })
  (accepted { interval = "1min"; })
  (accepted { interval = "2m 30s"; })
  (accepted { interval = "500ms"; })
  (accepted { interval = "30"; })
  (refused { directory = "relative/dir"; })
  (refused { directory = "/var/lib/"; })
  (refused { directory = "/var/lib/../tmp"; })
  (refused { directory = "/var/./lib"; })
  (refused { directory = "/var/lib/my dir"; })
  (refused { directory = "/var/lib/x\ny"; })
  (refused { directory = "/var/lib/$HOME"; })
  (refused { directory = "/"; })
  (refused { interval = ""; })
  (refused { interval = "soon"; })
  (refused { interval = "15s; rm"; })
  (row "the file is DIRECTORY/vpn-confinement.prom" (
    (metrics.settings {
      metrics = metrics.defaults;
      nodeExporterEnabled = false;
    }).environment.METRICS_FILE == "${metrics.defaults.directory}/vpn-confinement.prom"
  ) "")
]
