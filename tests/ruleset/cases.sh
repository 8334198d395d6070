# Shared by the ruleset scripts: render one golden case with the real
# binary, through the real ini and wg parsers.
#   render_case CASE_DIR WORK_DIR: writes WORK_DIR/NAME/{default,base,full,host}.nft
#   and .err files; returns the exit code of the default render.
# A case is tests/ruleset/cases/NAME/ (NAME a valid namespace name) with
# ns.ini (WireGuardConfigFile=@WG_CONF@), wg.conf and expected.nft.
CASES_DIR=$T_TOP/tests/ruleset/cases

render_case() {
	local case_dir=$1 work=$2 name rc form
	name=$(basename "$case_dir")
	mkdir -p "$work/$name/conf"
	install -m 0600 "$case_dir/wg.conf" "$work/$name/wg.conf"
	sed "s|@WG_CONF@|$work/$name/wg.conf|" "$case_dir/ns.ini" >"$work/$name/conf/$name.ini"
	VPN_CONFINEMENT_CONFDIR=$work/$name/conf "$BUILD/vpn-confinement" ruleset "$name" \
		>"$work/$name/default.nft" 2>"$work/$name/default.err"
	rc=$?
	for form in base full host; do
		VPN_CONFINEMENT_CONFDIR=$work/$name/conf "$BUILD/vpn-confinement" ruleset "$name" "--$form" \
			>"$work/$name/$form.nft" 2>"$work/$name/$form.err" || rc=$?
	done
	return $rc
}
