# SPDX-License-Identifier: MIT
# For non-flake users: `nix-build` builds the package. The NixOS module is
# nixos/module.nix: add it to `imports` (it builds this package itself,
# unless pkgs.vpn-confinement exists).
{
  pkgs ? import <nixpkgs> { },
}:
pkgs.callPackage ./nixos/package.nix { }
