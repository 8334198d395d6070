# SPDX-License-Identifier: MIT
# nixos/package.nix evaluated with builtins only: stdenv.mkDerivation,
# lib.fileset and the dependencies are stubs that record what the package
# asks for. tests/nixos/check-nix-sandbox.sh reads the result, so the
# sandbox it builds in takes the source files, the make flags and the
# check target from the package itself, not from a copy.
#
#   nix-instantiate --eval --strict --json tests/nixos/package-attrs.nix
let
  inherit (builtins)
    isAttrs
    isFunction
    removeAttrs
    stringLength
    substring
    ;
  root = toString ../..;
  relative =
    p:
    let
      s = toString p;
      prefix = root + "/";
      n = stringLength prefix;
    in
    if substring 0 n s == prefix then
      substring n (stringLength s - n) s
    else
      throw "package-attrs.nix: ${s} is outside the repository";

  # stdenv.mkDerivation with finalAttrs, finalPackage and overrideAttrs
  # (attribute set or prev: function), the forms package.nix uses.
  mkDerivation =
    arg:
    let
      build =
        f:
        let
          attrs = f finalAttrs;
          finalAttrs = attrs // {
            finalPackage = drv;
          };
          drv = attrs // {
            overrideAttrs =
              g:
              build (
                fa:
                let
                  prev = f fa;
                in
                prev
                // (
                  if isAttrs g then
                    g
                  else if isFunction g && isAttrs (g prev) then
                    g prev
                  else
                    throw "package-attrs.nix: overrideAttrs takes an attribute set or prev: { ... }"
                )
              );
          };
        in
        drv;
    in
    build (if isFunction arg then arg else (_: arg));

  stubPackage = pname: {
    inherit pname;
    outPath = "/stub/${pname}";
  };
  lib = {
    fileset = {
      unions = paths: { fileset = paths; };
      toSource =
        { root, fileset }:
        assert toString root == toString ../..;
        {
          files = map relative fileset.fileset;
        };
    };
    licenses.mit = "mit";
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p.outPath}/bin") ps);
    platforms.linux = [ "x86_64-linux" ];
  };

  pkg = import ../../nixos/package.nix {
    inherit lib;
    stdenv = {
      inherit mkDerivation;
    };
    pkg-config = stubPackage "pkg-config";
    nftables = stubPackage "nftables";
    systemdLibs = stubPackage "systemd-minimal-libs";
    wireguard-tools = stubPackage "wireguard-tools";
    wireguard-go = stubPackage "wireguard-go";
    libnatpmp = stubPackage "libnatpmp";
    curl = stubPackage "curl";
    coreutils = stubPackage "coreutils";
    gnused = stubPackage "gnused";
    gnugrep = stubPackage "gnugrep";
  };

  # What stdenv's phases read (pkgs/stdenv/generic/setup.sh): the make
  # flags of the build, check and install phases and whether they run.
  describe =
    d:
    {
      inherit (d) pname makeFlags;
      src = d.src.files;
      doCheck = d.doCheck or false;
      checkTarget = d.checkTarget or null;
      checkFlags = d.checkFlags or [ "VERBOSE=y" ];
      buildFlags = d.buildFlags or [ ];
      installFlags = d.installFlags or [ ];
      enableParallelBuilding = d.enableParallelBuilding or false;
      # mkDerivation's default is on.
      enableParallelChecking = d.enableParallelChecking or true;
      nativeBuildInputs = map (p: p.pname) (d.nativeBuildInputs or [ ]);
      nativeCheckInputs = map (p: p.pname) (d.nativeCheckInputs or [ ]);
      buildInputs = map (p: p.pname) (d.buildInputs or [ ]);
      # Hooks and phases the sandbox check does not run: set one, and the
      # check fails until it learns to.
      unemulated = builtins.filter (a: d ? ${a}) [
        "preCheck"
        "postPatch"
        "prePatch"
        "preBuild"
        "checkPhase"
        "buildPhase"
        "makefile"
      ];
    };
in
{
  package = describe pkg;
  unitTests = describe pkg.passthru.tests.unit;
}
