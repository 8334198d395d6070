# SPDX-License-Identifier: MIT
# The hardening the module gives confined services: the same settings
# vpn-confinement-generator writes for Hardening=yes (the module writes
# Hardening=no and applies these itself, with a priority weaker than
# mkDefault, so that the service's own settings and yours win).
# tests/nixos/check-nix.sh compares this list with the generator's output
# for Hardening=yes, so the two cannot drift apart.
{
  # No reconfiguring the namespace's network or its kill switch from inside.
  CapabilityBoundingSet = "~CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_ADMIN";
  RestrictNamespaces = true;
  RestrictAddressFamilies = [
    "AF_UNIX"
    "AF_INET"
    "AF_INET6"
    "AF_NETLINK"
  ];
  NoNewPrivileges = true;
  PrivateTmp = true;
  ProtectSystem = "full";
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
