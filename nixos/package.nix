# SPDX-License-Identifier: MIT
# vpn-confinement built with its Makefile: the helper, the generator, the
# unit templates, the man pages and the example port forwarding hooks, with the store paths of wg and
# wireguard-go substituted into the helper and the templates.
#
# The package runs no tests itself; passthru.tests.unit (the flake's
# checks.<system>.unit) is the same build with the C unit tests in its check
# phase. Tests in the package's own source would tie the helper's store
# path to them: every edit of a test would then change the templates that
# name the helper, and the next switch would restart every namespace.
# tests/nixos/check-nix-sandbox.sh runs the check phase's target in a
# sandbox made like Nix's, from exactly the files listed here.
{
  lib,
  stdenv,
  pkg-config,
  nftables,
  systemdLibs,
  wireguard-tools,
  wireguard-go,
  libnatpmp,
  curl,
  coreutils,
  gnused,
  gnugrep,
}:
let
  fs = lib.fileset;
  # What `make` and `make install` read, and nothing else: not the README,
  # the tests, the NixOS module or the flake.
  buildFiles = [
    ../Makefile
    ../common
    ../generator
    ../helpers
    ../units
    ../man
    ../examples/hooks
  ];
  # What `make check-unit` reads besides: the runner, the unit tests, and
  # the shipped example that tests/unit/test-config.c loads.
  unitTestFiles = [
    ../tests/run.sh
    ../tests/unit
    ../examples/vpn-confinement
  ];
  source =
    files:
    fs.toSource {
      root = ../.;
      fileset = fs.unions files;
    };
in
stdenv.mkDerivation (finalAttrs: {
  pname = "vpn-confinement";
  version = "0.1.0";

  src = source buildFiles;

  nativeBuildInputs = [ pkg-config ];
  # libnftables (the rulesets are applied in-process) and libsystemd
  # (sd_notify); systemdLibs has both libraries without the rest of systemd.
  # libnatpmp: port forwarding's NAT-PMP requests (docs/ARCHITECTURE.md).
  buildInputs = [
    nftables
    systemdLibs
    libnatpmp
  ];

  makeFlags = [
    "PREFIX=${placeholder "out"}"
    "SYSTEMDUNITDIR=${placeholder "out"}/lib/systemd/system"
    "SYSTEMDGENERATORDIR=${placeholder "out"}/lib/systemd/system-generators"
    "WG=${wireguard-tools}/bin/wg"
    "WIREGUARD_GO=${wireguard-go}/bin/wireguard-go"
    # The example port forwarding hooks run curl and a few tools; the PATH
    # port-forward gives them (/usr/bin, /bin) has none of them on NixOS.
    "HOOK_PATH=${
      lib.makeBinPath [
        curl
        coreutils
        gnused
        gnugrep
      ]
    }"
  ];

  enableParallelBuilding = true;

  doCheck = false;

  passthru.tests.unit = finalAttrs.finalPackage.overrideAttrs {
    pname = "vpn-confinement-unit-tests";
    src = source (buildFiles ++ unitTestFiles);
    # The C unit tests: no root, no network. The Makefile runs
    # tests/run.sh through the bash on PATH, so no shebang needs patching.
    doCheck = true;
    checkTarget = "check-unit";
  };

  meta = {
    description = "Confine systemd services to a WireGuard VPN network namespace, with a kill switch and no DNS leaks";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "vpn-confinement";
  };
})
