# SPDX-License-Identifier: MIT
# vpn-confinement built with its Makefile: the helper, the generator, the
# unit templates and the man pages, with the store paths of ip, wg and
# wireguard-go substituted into the helper and the templates.
{
  lib,
  stdenv,
  pkg-config,
  nftables,
  systemd,
  iproute2,
  wireguard-tools,
  wireguard-go,
}:
stdenv.mkDerivation {
  pname = "vpn-confinement";
  version = "0.1.0";

  # The repository without build output, VCS data or Nix results.
  src = lib.cleanSourceWith {
    src = ../.;
    filter =
      path: type:
      let
        base = baseNameOf path;
        rel = lib.removePrefix (toString ../. + "/") (toString path);
      in
      !(
        (type == "directory" && (base == ".git" || rel == "build"))
        || lib.hasPrefix "result" base
      );
  };

  nativeBuildInputs = [ pkg-config ];
  # libnftables (the rulesets are applied in-process) and libsystemd.
  buildInputs = [
    nftables
    systemd
  ];

  makeFlags = [
    "PREFIX=${placeholder "out"}"
    "SYSTEMDUNITDIR=${placeholder "out"}/lib/systemd/system"
    "SYSTEMDGENERATORDIR=${placeholder "out"}/lib/systemd/system-generators"
    "IP=${iproute2}/bin/ip"
    "WG=${wireguard-tools}/bin/wg"
    "WIREGUARD_GO=${wireguard-go}/bin/wireguard-go"
  ];

  enableParallelBuilding = true;

  # The C unit tests (no root, no network). The whole `make check` (ASan,
  # fuzz-corpus replay, script checks) is the flake's checks.<system>.make-check.
  doCheck = true;
  checkTarget = "check-unit";

  meta = {
    description = "Confine systemd services to a WireGuard VPN network namespace, with a kill switch and no DNS leaks";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
    mainProgram = "vpn-confinement";
  };
}
