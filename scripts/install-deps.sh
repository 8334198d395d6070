#!/bin/sh
# Install every Debian package needed to build and test vpn-confinement.
# Run as root on Debian 12. Safe to run again.
set -eu
export DEBIAN_FRONTEND=noninteractive
# The daemons below are test peers that the tests start themselves, in
# namespaces of their own (miniupnpd, transmission-daemon, qbittorrent-nox,
# node_exporter; tests/e2e confines Debian's transmission-daemon in its
# container): their packages must not start them on this machine's own
# network. policy-rc.d tells invoke-rc.d and deb-systemd-invoke not to.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
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
    qemu-system-x86 busybox-static cpio \
    miniupnpd-nftables natpmpc libnatpmp-dev \
    transmission-daemon transmission-cli qbittorrent-nox \
    prometheus prometheus-node-exporter
