# SPDX-License-Identifier: MIT
{
  description = "Confine systemd services to a WireGuard VPN network namespace, with a kill switch and no DNS leaks";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      overlays.default = final: _prev: {
        vpn-confinement = final.callPackage ./nixos/package.nix { };
      };

      packages = forAllSystems (
        pkgs:
        let
          vpn-confinement = pkgs.callPackage ./nixos/package.nix { };
        in
        {
          inherit vpn-confinement;
          default = vpn-confinement;
        }
      );

      # Uses pkgs.vpn-confinement when the overlay is applied, and builds
      # the package from this flake otherwise.
      nixosModules.default = ./nixos/module.nix;
      nixosModules.vpn-confinement = self.nixosModules.default;

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.stdenv.hostPlatform.system}.default ];
          # What `make check`, `make test` and `make bench` use.
          packages = with pkgs; [
            clang
            llvm
            nftables
            iproute2
            wireguard-tools
            wireguard-go
            conntrack-tools
            tcpdump
            socat
            dnsmasq
            dig
            curl
            procps
            psmisc
            kmod
            python3
            nix
            man-db
            groff
            hyperfine
            qemu
            busybox
            cpio
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt);

      checks = forAllSystems (
        pkgs:
        let
          package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        in
        {
          # The build, with the C unit tests (make check-unit).
          inherit package;

          # All of `make check`: ASan/UBSan unit tests, fuzz-corpus replay
          # (clang, libFuzzer) and the script checks (man pages, Nix, ...).
          make-check = package.overrideAttrs (old: {
            pname = "vpn-confinement-make-check";
            checkTarget = "check";
            nativeCheckInputs = (old.nativeCheckInputs or [ ]) ++ [
              pkgs.clang
              pkgs.python3
              pkgs.nix
              pkgs.man-db
              pkgs.groff
              pkgs.nftables
              pkgs.iproute2
              pkgs.wireguard-tools
              pkgs.systemd
            ];
            preCheck = ''
              export HOME=$TMPDIR
              patchShebangs tests
            '';
          });

          # The NixOS VM test: VPN server, confined host, LAN client.
          vm-test = pkgs.testers.runNixOSTest (
            import ./tests/nixos/vm-test.nix { module = self.nixosModules.default; }
          );
        }
      );
    };
}
