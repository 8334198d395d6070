#!/bin/bash
# The runtime subcommands' command line and configuration errors, without
# root and without touching any network: exit status 2 for a bad command
# line or name, 3 for a missing or invalid ini or wg config (checked before
# anything changes), and messages that name the file and line.
set -u
. "$(dirname "$0")/../lib.sh"
VC=$BUILD/vpn-confinement
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VPN_CONFINEMENT_CONFDIR=$tmp/conf VPN_CONFINEMENT_RUNDIR=$tmp/run VPN_CONFINEMENT_NETNS_ETCDIR=$tmp/etc
mkdir -p $tmp/conf

status_is() { # WANT CMD...: the exit status of CMD is WANT
	local want=$1; shift
	"$@" >$tmp/out 2>$tmp/err
	local got=$?
	[ "$got" = "$want" ] || { echo "  $* exited $got, want $want:"; sed 's/^/    /' $tmp/err; return 1; }
}

for cmd in netns-up netns-down wg-up wg-down wait-online check; do
	t_check "$cmd without a name: 2" status_is 2 "$VC" $cmd
	t_check "$cmd with an invalid name: 2" status_is 2 "$VC" $cmd Bad_Name
	t_check "$cmd with a too long name: 2" status_is 2 "$VC" $cmd abcdefgh
	t_check "$cmd --help: 0" status_is 0 "$VC" $cmd --help
done
t_check "status with an unknown option: 2" status_is 2 "$VC" status --bogus
t_check "check --max-handshake-age junk: 2" status_is 2 "$VC" check abc --max-handshake-age 1x
t_check "wg-up with an unknown option: 2" status_is 2 "$VC" wg-up abc --bogus
t_check "wait-online --timeout junk: 2" status_is 2 "$VC" wait-online abc --timeout 1x
t_check "wait-online --timeout without a value: 2" status_is 2 "$VC" wait-online abc --timeout
t_check "wait-online without a tunnel: 1 after --timeout" status_is 1 "$VC" wait-online abc --timeout 1
t_check "... saying so" grep -q "abc: no handshake within 1 s" $tmp/err
t_check "the help lists wait-online" sh -c "'$VC' --help | grep -q '^  wait-online N'"

# exec's own failures are 125 (its command's statuses are its own).
t_check "exec without a name: 125" status_is 125 "$VC" exec
t_check "exec without a command: 125" status_is 125 "$VC" exec abc
t_check "exec with an invalid name: 125" status_is 125 "$VC" exec Bad_Name -- true
t_check "exec with an unknown option: 125" status_is 125 "$VC" exec abc --bogus -- true
t_check "exec --user without a user: 125" status_is 125 "$VC" exec abc --user= -- true
t_check "exec --help: 0" status_is 0 "$VC" exec --help
t_check "exec without an ini: 125, and the command is not run" status_is 125 "$VC" exec abc -- touch $tmp/ran
t_check_not "... it was not" test -e $tmp/ran
t_check "netns-up without an ini: 3" status_is 3 "$VC" netns-up abc
t_check "wg-up without an ini: 3" status_is 3 "$VC" wg-up abc
printf '[Namespace]\nWireGuardConfigFile=%s/wg.conf\nBogus=1\n' $tmp >$tmp/conf/abc.ini
t_check "netns-up with an invalid ini: 3" status_is 3 "$VC" netns-up abc
t_check "the message names file and line" grep -q "abc.ini:3:" $tmp/err
printf '[Namespace]\nWireGuardConfigFile=%s/wg.conf\n' $tmp >$tmp/conf/abc.ini
t_check "wg-up with a missing wg config: 3" status_is 3 "$VC" wg-up abc
t_check "the message names the wg config" grep -q "$tmp/wg.conf" $tmp/err
key=$(printf 'k%.0s' $(seq 43))=
printf '[Interface]\nPrivateKey = %s\nAddress = 10.0.0.2/32\nPostUp = touch %s/pwned\n' "$key" $tmp >$tmp/wg.conf
chmod 600 $tmp/wg.conf
t_check "wg-up with PostUp: 3" status_is 3 "$VC" wg-up abc
t_check "PostUp named with its line" grep -q "wg.conf:4:" $tmp/err
t_check "PostUp did not run" test ! -e $tmp/pwned
t_check "nothing written to the run directory" test ! -e $tmp/run/abc
t_check "nothing written to the netns etc dir" test ! -e $tmp/etc
t_done
