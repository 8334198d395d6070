/* SPDX-License-Identifier: MIT */
#include "wgtool.h"

#include "proc.h"
#include "text.h"
#include "util.h"
#include "wgconf.h"

void wg_dump_clear(struct wg_dump *d) {
	for (size_t i = 0; i < d->n_peers; i++)
		free(d->peers[i].allowed_ips);
	free(d->peers);
	*d = (struct wg_dump){ 0 };
}

int wgtool_setconf(const char *dev, const struct wg_config *wg) {
	char *argv[] = { WG_PATH, "setconf", (char *)dev, "/dev/stdin", NULL };
	_cleanup_(text_release) struct text t = { 0 };
	struct proc_opts o = PROC_OPTS_INIT;
	int r;

	r = text_open(&t, true);
	if (r < 0)
		return r;
	r = wgconf_write_setconf(wg, t.f);
	if (text_finish(&t) < 0 && r == 0)
		r = -ENOMEM;
	if (r == 0 && !t.buf)
		r = -EINVAL;
	if (r < 0)
		return r;
	o.stdin_buf = t.buf;
	o.stdin_len = t.len;
	return proc_run_step("configuring the WireGuard interface (wg setconf)", argv, &o);
}

/* Split a line into tab-separated fields, in place. */
static size_t fields(char *line, char **f, size_t max) {
	size_t n = 0;

	for (char *p = line, *t; p && n < max; p = t) {
		t = strchr(p, '\t');
		if (t)
			*t++ = '\0';
		f[n++] = p;
	}
	return n;
}

int wg_dump_parse(const char *text, struct wg_dump *out) {
	_cleanup_(text_release) struct text copy = { .secret = true };
	unsigned line_no = 0;
	int r;

	*out = (struct wg_dump){ 0 };
	r = text_append(&copy, text, strlen(text), 0);
	if (r < 0)
		return r;
	for (char *line = copy.buf, *next; line && *line; line = next, line_no++) {
		char *f[9];
		size_t nf;
		uint64_t v;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		nf = fields(line, f, ELEMENTSOF(f));
		if (line_no == 0) {
			/* f[0] is the private key: never copied. */
			if (nf < 3)
				return -EBADMSG;
			snprintf(out->public_key, sizeof(out->public_key), "%s", f[1]);
			if (parse_uint(f[2], 0, 65535, &v) == 0)
				out->listen_port = (unsigned)v;
			continue;
		}
		if (nf < 8)
			return -EBADMSG;
		{
			/* f[1] is the preshared key: never copied. */
			struct wg_dump_peer p = { 0 };

			snprintf(p.public_key, sizeof(p.public_key), "%s", f[0]);
			snprintf(p.endpoint, sizeof(p.endpoint), "%s", streq(f[2], "(none)") ? "" : f[2]);
			p.allowed_ips = strdup(streq(f[3], "(none)") ? "" : f[3]);
			parse_uint(f[4], 0, UINT64_MAX, &p.latest_handshake);
			parse_uint(f[5], 0, UINT64_MAX, &p.rx);
			parse_uint(f[6], 0, UINT64_MAX, &p.tx);
			if (!streq(f[7], "off"))
				parse_uint(f[7], 0, 65535, &p.keepalive);
			if (!p.allowed_ips || ARRAY_APPEND(out->peers, out->n_peers, p) < 0) {
				free(p.allowed_ips);
				wg_dump_clear(out);
				return -ENOMEM;
			}
		}
	}
	return line_no > 0 ? 0 : -EBADMSG;
}

int wgtool_dump(const char *dev, int netns_fd, struct wg_dump *out) {
	_cleanup_(text_release) struct text o_out = { 0 }, o_err = { 0 };
	struct proc_opts o = PROC_OPTS_INIT;
	char *argv[] = { WG_PATH, "show", (char *)dev, "dump", NULL };
	int r;

	*out = (struct wg_dump){ 0 };
	o.netns_fd = netns_fd;
	o.out = &o_out;
	o.err = &o_err;
	r = proc_run(argv, &o);
	if (r < 0)
		return r;
	if (r != 0 || !o_out.buf)
		return -ENODEV;
	return wg_dump_parse(o_out.buf, out);
}
