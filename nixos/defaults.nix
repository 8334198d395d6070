# SPDX-License-Identifier: MIT
# Default values of vpnNamespaces.<name> options that have one. options.nix
# and the builtins-only test harness (pure.nix) both read this file, so the
# module and the golden tests cannot disagree about a default.
{
  enable = false;
  wireguardConfigFiles = [ ];
  # vpnNamespaces.<name>.health: null leaves the helper's default
  # (vpn-confinement.ini(5)), and writes no line.
  health = {
    timeout = null;
    failoverAfter = null;
    failbackAfter = null;
    address = null;
  };
  accessibleFrom = [ ];
  portMappings = [ ];
  openVPNPorts = [ ];
  allowedEgress = [ ];
  namespaceAddress = "192.168.15.1";
  bridgeAddress = "192.168.15.5";
  namespaceAddressIPv6 = null;
  bridgeAddressIPv6 = null;
  # portMappings.*.protocol and openVPNPorts.*.protocol
  protocol = "tcp";
  # portForwarding: its sub-options' defaults below.
  portForwarding = { };
  portForwardingOptions = {
    enable = false;
    gateway = null;
    hook = null;
  };
}
