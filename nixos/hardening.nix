# SPDX-License-Identifier: MIT
# The hardening the module gives confined services: the same settings
# vpn-confinement-generator writes for Hardening=yes (the module writes
# Hardening=no and applies these itself, at priority 1250, weaker than
# mkDefault, so that the service's own settings and yours win).
# tests/nixos/check-nix.sh compares this list with the generator's output
# for Hardening=yes, so the two cannot drift apart.
#
# Not here: what the confinement itself takes away (the capabilities that
# would undo the namespace, RestrictNamespaces=, the helper's run directory,
# the WireGuard keys and control sockets, /etc/netns, the service manager's
# private socket). The generator's drop-in writes that for every confined
# service, Hardening=no included, so no priority here can relax it.
{
  RestrictAddressFamilies = [
    "AF_UNIX"
    "AF_INET"
    "AF_INET6"
    "AF_NETLINK"
  ];
  NoNewPrivileges = true;
  PrivateTmp = true;
  PrivateDevices = true;
  # The whole file system read-only but /dev, /proc, /sys and the service's
  # StateDirectory= & co.; give it more with ReadWritePaths=.
  ProtectSystem = "strict";
  # strict alone left /run writable under systemd 252, where a runtime unit
  # or udev rule runs as root outside the namespace; RuntimeDirectory= and
  # ReadWritePaths= below /run still win.
  ReadOnlyPaths = [ "/run" ];
  ProtectHome = true;
  ProtectKernelTunables = true;
  ProtectKernelModules = true;
  ProtectKernelLogs = true;
  ProtectControlGroups = true;
  ProtectHostname = true;
  RestrictSUIDSGID = true;
  RestrictRealtime = true;
  LockPersonality = true;
  SystemCallArchitectures = "native";
}
