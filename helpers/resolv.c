/* SPDX-License-Identifier: MIT */
#include "resolv.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "rundir.h"
#include "text.h"
#include "util.h"
#include "wgconf.h"

const char *netns_etcdir(void) {
	const char *v = getenv("VPN_CONFINEMENT_NETNS_ETCDIR");
	return v && *v ? v : "/etc/netns";
}

int resolv_etc_path(const char *ns, char **dir, char **file) {
	_cleanup_free_ char *d = NULL;

	if (asprintf(&d, "%s/%s", netns_etcdir(), ns) < 0 || asprintf(file, "%s/resolv.conf", d) < 0)
		return -ENOMEM;
	*dir = TAKE_PTR(d);
	return 0;
}

int resolv_render(const struct wg_config *wg, char **out) {
	_cleanup_(text_release) struct text t = { 0 };
	char a[IPNET_STRLEN];
	int r = text_open(&t, false);

	if (r < 0)
		return r;
	fputs(RESOLV_HEADER, t.f);
	for (size_t i = 0; i < wg->n_dns; i++)
		fprintf(t.f, "nameserver %s\n", ipaddr_str(&wg->dns[i], a));
	if (wg->n_dns_search > 0) {
		fputs("search", t.f);
		for (size_t i = 0; i < wg->n_dns_search; i++)
			fprintf(t.f, " %s", wg->dns_search[i]);
		fputs("\n", t.f);
	}
	r = text_finish(&t);
	if (r < 0)
		return r;
	*out = text_steal(&t);
	return 0;
}

int resolv_init(const char *ns) {
	/* $NETNS_ETCDIR exists from the start: confined services get an empty
	 * read-only file system over it, for which systemd needs the
	 * directory (it cannot make one on a read-only /etc). */
	if (mkdir(netns_etcdir(), 0755) < 0 && errno != EEXIST)
		log_msg("%s: warning: cannot make %s: %s", ns, netns_etcdir(), strerror(errno));
	return rundir_exists(ns, RUN_RESOLV) ? 0 : rundir_write_inplace(ns, RUN_RESOLV, RESOLV_DOWN);
}

static int etc_write(const char *ns, const char *text) {
	_cleanup_free_ char *dir = NULL, *file = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	int r;

	r = resolv_etc_path(ns, &dir, &file);
	if (r < 0)
		return r;
	if (mkdir(netns_etcdir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (asprintf(&tmp, "%s.vpn-confinement.tmp", file) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || rename(tmp, file) < 0) {
		r = errno ? -errno : -EIO;
		unlink(tmp);
		return r;
	}
	return 0;
}

int resolv_publish(const char *ns, const char *text) {
	int r = rundir_write_inplace(ns, RUN_RESOLV, text);

	return r < 0 ? r : etc_write(ns, text);
}

int resolv_withdraw(const char *ns) {
	_cleanup_free_ char *dir = NULL, *file = NULL, *text = NULL;
	size_t len;
	int r, first = 0;

	/* In place, not removed: running services have it bind-mounted. */
	r = rundir_exists(ns, RUN_NETNS) ? rundir_write_inplace(ns, RUN_RESOLV, RESOLV_DOWN)
					 : rundir_remove(ns, RUN_RESOLV);
	if (r < 0)
		RET_GATHER(first, log_errno(r, "%s: emptying the run directory's resolv.conf", ns));
	r = resolv_etc_path(ns, &dir, &file);
	if (r < 0) {
		RET_GATHER(first, r);
		return first;
	}
	r = read_file_capped(file, 65536, &text, &len);
	/* Not there, or someone else's: left alone. */
	if (r < 0 || strncmp(text, RESOLV_HEADER, strlen(RESOLV_HEADER)) != 0)
		return first;
	if (unlink(file) < 0)
		RET_GATHER(first, log_errno(errno, "%s: removing %s", ns, file));
	else if (rmdir(dir) < 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		RET_GATHER(first, log_errno(errno, "%s: removing %s", ns, dir));
	return first;
}
