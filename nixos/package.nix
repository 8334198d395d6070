# SPDX-License-Identifier: MIT
# vpn-confinement built with its Makefile: the helper, the generator, the
# unit templates and the man pages, with the store paths of wg and
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
  buildInputs = [
    nftables
    systemdLibs
  ];

  makeFlags = [
    "PREFIX=${placeholder "out"}"
    "SYSTEMDUNITDIR=${placeholder "out"}/lib/systemd/system"
    "SYSTEMDGENERATORDIR=${placeholder "out"}/lib/systemd/system-generators"
    "WG=${wireguard-tools}/bin/wg"
    "WIREGUARD_GO=${wireguard-go}/bin/wireguard-go"
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
