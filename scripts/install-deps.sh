#!/bin/sh
# Install every Debian package needed to build and test vpn-confinement.
# Run as root on Debian 12. Safe to run again.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    build-essential pkg-config clang llvm \
    libnftables-dev libsystemd-dev \
    nftables iproute2 wireguard-tools wireguard-go \
    conntrack tcpdump socat dnsmasq-base dnsutils curl iputils-ping \
    procps psmisc kmod \
    systemd systemd-container dbus \
    python3 \
    bubblewrap \
    nix-bin \
    man-db groff-base \
    hyperfine \
    qemu-system-x86 busybox-static cpio
