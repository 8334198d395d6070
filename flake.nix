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
            # Port forwarding's tests: the provider's NAT-PMP gateway, a
            # client to take a port, the clients the hooks tell.
            miniupnpd-nftables
            libnatpmp
            transmission_4
            qbittorrent-nox
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt);

      # What `nix flake check` builds. Each runs in the Nix build sandbox
      # and needs nothing outside it: tests/nixos/check-nix-sandbox.sh runs
      # the unit check's target in a sandbox made like Nix's. The rest of
      # `make check` is not here: some of its script checks need root
      # (tests/wgconf/check-strip.sh) or /run (systemd-analyze in
      # tests/generator/check-generator.sh), which a Nix build has not.
      checks = forAllSystems (
        pkgs:
        let
          package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        in
        {
          # The build and install phases.
          inherit package;

          # The same build with the C unit tests (make check-unit).
          unit = package.tests.unit;

          # The NixOS VM test: VPN server, confined host, LAN client.
          vm-test = pkgs.testers.runNixOSTest (
            import ./tests/nixos/vm-test.nix { module = self.nixosModules.default; }
          );
        }
      );
    };
}
