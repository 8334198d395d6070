/* SPDX-License-Identifier: MIT */
#include "egress.h"

#include "config.h"
#include "diag.h"
#include "util.h"
#include "wgconf.h"

int egress_check_wg(const struct ns_config *ns, const struct wg_config *wg, struct diag *d) {
	char e[EGRESS_STRLEN], a[IPNET_STRLEN];
	bool failed = false;
	int r;

	for (size_t i = 0; i < ns->n_egress; i++) {
		const struct egress_rule *rule = &ns->egress[i];

		for (size_t k = 0; k < wg->n_dns; k++) {
			if (!ipnet_contains(&rule->net, &wg->dns[k]))
				continue;
			r = diag_error(d, ns->source_path, rule->line,
				       "AllowedEgress: %s contains DNS server %s of %s: DNS only ever goes to it through the tunnel; narrow the destination to leave it out",
				       egress_rule_str(rule, e), ipaddr_str(&wg->dns[k], a), wg->path);
			if (r != -EINVAL)
				return r;
			failed = true;
		}
		for (size_t k = 0; k < wg->n_peers; k++) {
			const struct wg_peer *p = &wg->peers[k];

			if (!p->has_endpoint || !p->endpoint_is_ip || !ipnet_contains(&rule->net, &p->endpoint_ip))
				continue;
			r = diag_error(d, ns->source_path, rule->line,
				       "AllowedEgress: %s contains the endpoint %s of the peer at %s:%u: the VPN server is reached only by the tunnel; narrow the destination to leave it out",
				       egress_rule_str(rule, e), ipaddr_str(&p->endpoint_ip, a), wg->path, p->line);
			if (r != -EINVAL)
				return r;
			failed = true;
		}
	}
	return failed ? -EINVAL : 0;
}
