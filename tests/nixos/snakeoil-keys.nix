# SPDX-License-Identifier: MIT
# WireGuard key pairs for the NixOS VM test ONLY (made with `wg genkey` and
# `wg pubkey` for this test). They are public, so they protect nothing:
# never use them anywhere else.
{
  server = {
    privateKey = "KMWDkZBRfuWPTzOshV7z3EJh+SNPm5nbu1cMQAnxA2I=";
    publicKey = "AycV+3gDPaVCXbLzndKko7sQRa6nSX2rCm23vYhXZyQ=";
  };
  # The host's namespace "wg".
  wg = {
    privateKey = "cEYc0jPwnpd3gFFy0zu2+2ilEkxZDS5t3dm0r38F+nk=";
    publicKey = "yu1vpGxBZ0EpQMlGrUc1dE3Sdk0VrKsfgbxu0gCGOnQ=";
  };
  # The host's namespace "two".
  two = {
    privateKey = "AEquW1PKfX7/iHbFvIcQmXw6kWvBjJ7oqQUXhCd28HI=";
    publicKey = "lokQevkoM8rN4mmgnSUcF/uENNWfNePksSnJWADCd1U=";
  };
}
