/* SPDX-License-Identifier: MIT */
/* vpn-confinement wg-up N / wg-down N: the WireGuard interface N0 inside N.
 *
 * The interface is created in the host namespace under a temporary unique
 * name "vc-N-XXXX", so its UDP socket lives (and stays) on the host side,
 * configured there with `wg setconf NAME /dev/stdin` (the key goes through a
 * pipe), then moved into N and renamed to N0.
 *
 * wireguard-go (the userspace implementation) names its control socket
 * /var/run/wireguard/NAME.sock after the name at creation; that directory is
 * shared by all namespaces. The socket keeps the temporary name: renaming it
 * to N0.sock could collide with a host interface of that name (a host "wg0"
 * of its own), and `wg` finds the device by the socket name from anywhere.
 * The name and wireguard-go's pid are recorded in $RUNDIR/N/wg, and status,
 * check and wg-down use them. */
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "commands.h"
#include "hostfwd.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "proc.h"
#include "ruleset.h"
#include "rundir.h"
#include "runtime.h"
#include "sysctl.h"
#include "util.h"
#include "wgrt.h"

static void sleep_ms(long ms) {
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool wgo_is_ours(const struct wg_state *st) {
	uint64_t start;

	if (!st->has_socket || st->pid <= 0 || st->pid_start == 0)
		return false;
	return proc_start_time(st->pid, &start) == 0 && start == st->pid_start &&
	       proc_exe_is(st->pid, WIREGUARD_GO_PATH) && proc_has_arg(st->pid, st->tmpname);
}

bool wg_tmpname_valid(const char *ns, const char *s) {
	size_t nl = strlen(ns);

	/* "vc-" N "-" and four hex digits, as tmpname_pick() makes them. */
	if (!ns_name_valid(ns) || strlen(s) != 3 + nl + 5 || strncmp(s, "vc-", 3) != 0 ||
	    strncmp(s + 3, ns, nl) != 0 || s[3 + nl] != '-')
		return false;
	for (const char *p = s + 4 + nl; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static const char *const wg_implementations[] = { "kernel", "userspace", "pending" };

/* One "key=value" of the record into st; -EBADMSG for anything wg-up does
 * not write. */
static int wg_state_field(const char *ns, struct wg_state *st, const char *key, const char *value) {
	uint64_t v;

	if (streq(key, "implementation")) {
		for (size_t i = 0; i < ELEMENTSOF(wg_implementations); i++)
			if (streq(value, wg_implementations[i]))
				st->implementation = wg_implementations[i];
		return st->implementation ? 0 : -EBADMSG;
	}
	if (streq(key, "tmpname") || streq(key, "socket")) {
		if (!wg_tmpname_valid(ns, value) || (st->tmpname[0] && !streq(st->tmpname, value)))
			return -EBADMSG;
		snprintf(st->tmpname, sizeof(st->tmpname), "%s", value);
		st->has_socket |= streq(key, "socket");
		return 0;
	}
	if (streq(key, "pid")) {
		if (parse_uint(value, 2, INT32_MAX, &v) < 0)
			return -EBADMSG;
		st->pid = (pid_t)v;
		return 0;
	}
	if (streq(key, "pidstart"))
		return parse_uint(value, 1, UINT64_MAX, &st->pid_start) < 0 ? -EBADMSG : 0;
	if (streq(key, "started"))
		return parse_uint(value, 0, UINT64_MAX, &st->started) < 0 ? -EBADMSG : 0;
	return -EBADMSG;
}

int wg_state_load(const char *ns, struct wg_state *st) {
	_cleanup_free_ char *text = NULL;
	int r;

	*st = (struct wg_state){ 0 };
	r = rundir_read(ns, RUN_WG, &text);
	if (r < 0)
		return r;
	for (char *line = text, *next; *line; line = next) {
		char *eq;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq || (*eq = '\0', wg_state_field(ns, st, line, eq + 1)) < 0) {
			*st = (struct wg_state){ 0 };
			return -EBADMSG;
		}
	}
	if (!st->implementation || !st->tmpname[0] || (st->pid && !st->has_socket)) {
		*st = (struct wg_state){ 0 };
		return -EBADMSG;
	}
	return 0;
}

int wg_state_save(const char *ns, const struct wg_state *st) {
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "implementation=%s\ntmpname=%s\nstarted=%llu\n", st->implementation, st->tmpname,
		(unsigned long long)st->started);
	if (st->has_socket)
		fprintf(f, "socket=%s\n", st->tmpname);
	if (st->pid > 0)
		fprintf(f, "pid=%d\npidstart=%llu\n", (int)st->pid, (unsigned long long)st->pid_start);
	if (fclose(f) != 0)
		return -ENOMEM;
	return rundir_write(ns, RUN_WG, text);
}

static int tmpname_pick(const char *ns, char out[IF_NAMESIZE]) {
	for (int attempt = 0; attempt < 32; attempt++) {
		uint16_t rnd;
		char sock[128];

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -errno;
		snprintf(out, IF_NAMESIZE, "vc-%s-%04x", ns, rnd);
		snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", out);
		if (if_nametoindex(out) == 0 && access(sock, F_OK) < 0)
			return 0;
	}
	return -EEXIST;
}

/* Resolve one DNS-name endpoint; 0, or the getaddrinfo() error. */
static int resolve_one(struct wg_peer *p) {
	/* AI_ADDRCONFIG: no IPv6 endpoint on a host without IPv6. */
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	struct ipaddr a = { 0 };
	char buf[IPNET_STRLEN];
	char *lit;
	int g;

	g = getaddrinfo(p->endpoint_host, NULL, &hints, &res);
	if (g != 0)
		return g;
	a.family = res->ai_family;
	if (res->ai_family == AF_INET)
		a.v4 = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	else
		a.v6 = ((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	freeaddrinfo(res);
	lit = strdup(ipaddr_str(&a, buf));
	if (!lit)
		return EAI_MEMORY;
	free(p->endpoint_host);
	p->endpoint_host = lit;
	p->endpoint_is_ip = true;
	p->endpoint_ip = a;
	return 0;
}

/* Every endpoint, in the host namespace (where the UDP socket is): DNS
 * names resolved (the literal address goes into the config), and a route
 * to it there. Bounded retries with back-off: at boot the network may come
 * a little later; after that, the unit's restarts take over. */
static int resolve_endpoints(const struct ns_names *n, struct wg_config *wg) {
	const char *env = getenv("VPN_CONFINEMENT_RESOLVE_ATTEMPTS");
	uint64_t attempts = 6;

	if (env && parse_uint(env, 1, 100, &attempts) < 0)
		attempts = 6;
	for (size_t i = 0; i < wg->n_peers; i++) {
		struct wg_peer *p = &wg->peers[i];
		char reason[256] = "";
		bool named = p->has_endpoint && !p->endpoint_is_ip;
		long delay = 500;
		uint64_t a;

		if (!p->has_endpoint)
			continue;
		for (a = 0; a < attempts; a++) {
			char buf[IPNET_STRLEN];
			int oif, g;

			if (a > 0) {
				sleep_ms(delay);
				delay = delay * 2 > 8000 ? 8000 : delay * 2;
			}
			if (!p->endpoint_is_ip && (g = resolve_one(p)) != 0) {
				snprintf(reason, sizeof(reason), "cannot resolve endpoint %s: %s", p->endpoint_host,
					 g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
			} else if (nl_route_get(&p->endpoint_ip, &oif) < 0) {
				snprintf(reason, sizeof(reason), "no route to endpoint %s%s from the host namespace",
					 ipaddr_str(&p->endpoint_ip, buf), named ? " (resolved from its name)" : "");
			} else
				break;
			fprintf(stderr, "vpn-confinement: %s: %s (attempt %llu of %llu)\n", n->ns, reason,
				(unsigned long long)a + 1, (unsigned long long)attempts);
		}
		if (a == attempts) {
			fprintf(stderr, "vpn-confinement: %s: %s:%u: %s, giving up\n", n->ns, wg->path, p->line, reason);
			return -EHOSTUNREACH;
		}
	}
	return 0;
}

int resolv_conf_render(const struct wg_config *wg, char **out) {
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char a[IPNET_STRLEN];

	if (!f)
		return -ENOMEM;
	fputs(RESOLV_HEADER, f);
	for (size_t i = 0; i < wg->n_dns; i++)
		fprintf(f, "nameserver %s\n", ipaddr_str(&wg->dns[i], a));
	if (wg->n_dns_search > 0) {
		fputs("search", f);
		for (size_t i = 0; i < wg->n_dns_search; i++)
			fprintf(f, " %s", wg->dns_search[i]);
		fputs("\n", f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*out = TAKE_PTR(buf);
	return 0;
}

int resolv_etc_path(const char *ns, char **dir, char **file) {
	if (asprintf(dir, "%s/%s", netns_etcdir(), ns) < 0)
		return -ENOMEM;
	if (asprintf(file, "%s/resolv.conf", *dir) < 0) {
		free(*dir);
		*dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int write_resolv_conf(const struct ns_names *n, const char *text) {
	_cleanup_free_ char *dir = NULL, *file = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	int r;

	r = rundir_write_inplace(n->ns, RUN_RESOLV, text);
	if (r < 0)
		return r;
	r = resolv_etc_path(n->ns, &dir, &file);
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

static int remove_resolv_conf(const struct ns_names *n) {
	_cleanup_free_ char *dir = NULL, *file = NULL, *text = NULL;
	size_t len;
	int r, first = 0;

	/* In place, not removed: running services have it bind-mounted. */
	r = rundir_exists(n->ns, RUN_NETNS) ? rundir_write_inplace(n->ns, RUN_RESOLV, RESOLV_DOWN)
					       : rundir_remove(n->ns, RUN_RESOLV);
	if (r < 0) {
		log_errno(r, "%s: emptying the run directory's resolv.conf", n->ns);
		first = r;
	}
	r = resolv_etc_path(n->ns, &dir, &file);
	if (r < 0)
		return r;
	r = read_file_capped(file, 65536, &text, &len);
	if (r == -ENOENT)
		return first;
	/* Someone else's file there is left alone. */
	if (r < 0 || strncmp(text, RESOLV_HEADER, strlen(RESOLV_HEADER)) != 0)
		return first;
	if (unlink(file) < 0) {
		r = -errno;
		fprintf(stderr, "vpn-confinement: %s: removing %s: %s\n", n->ns, file, strerror(-r));
		return first ? first : r;
	}
	if (rmdir(dir) < 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
		r = -errno;
		fprintf(stderr, "vpn-confinement: %s: removing %s: %s\n", n->ns, dir, strerror(-r));
		return first ? first : r;
	}
	return first;
}

/* Stop a wireguard-go that is ours: it exits by itself once its interface is
 * deleted; otherwise SIGTERM, then SIGKILL. Reaps it when it is our child. */
static int wgo_stop(const struct wg_state *st) {
	for (int i = 0; i < 1500; i++) {
		if (!wgo_is_ours(st))
			goto gone;
		if (i == 500)
			kill(st->pid, SIGTERM);
		if (i == 1250)
			kill(st->pid, SIGKILL);
		waitpid(st->pid, NULL, WNOHANG);
		sleep_ms(2);
	}
	return -ETIMEDOUT;
gone:
	waitpid(st->pid, NULL, WNOHANG);
	{
		char sock[128];
		snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", st->tmpname);
		/* wireguard-go removes its socket on a clean exit, not when killed. */
		if (unlink(sock) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int del_link_named(const char *name) {
	unsigned idx = if_nametoindex(name);
	return idx ? nl_link_del((int)idx) : 0;
}

int wg_teardown(const struct ns_names *n, const struct ns_config *ns, bool restore_base) {
	struct wg_state st = { 0 };
	_cleanup_close_ int nsfd = -1;
	int r, first = 0;

	r = wg_state_load(n->ns, &st);
	if (r < 0 && r != -ENOENT)
		RET_GATHER(first, log_errno(r, "%s: reading the wg run file", n->ns));
	/* Tells a `wg-up --foreground` supervisor that the tunnel going away
	 * now is a requested stop, not a death. */
	if (r == 0)
		rundir_write(n->ns, RUN_WG_STOPPING, "");

	nsfd = netns_open(n->ns);
	if (nsfd >= 0) {
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			RET_GATHER(first, log_errno(r, "%s: entering the namespace", n->ns));
		else {
			if (restore_base && ns) {
				_cleanup_free_ char *base = NULL;
				r = ruleset_ns_base_text(ns, &base);
				if (r < 0)
					RET_GATHER(first, log_errno(r, "%s: rendering the base ruleset", n->ns));
				else
					RET_GATHER(first, runtime_nft_apply("restoring the base ruleset", base));
			}
			if ((r = del_link_named(n->wg)) < 0)
				RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface", n->ns));
			if (st.tmpname[0] && (r = del_link_named(st.tmpname)) < 0)
				RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface (temporary name)", n->ns));
			/* No established flow may survive onto another path. */
			if ((r = nl_conntrack_flush(AF_INET)) < 0 || (r = nl_conntrack_flush(AF_INET6)) < 0)
				RET_GATHER(first, log_errno(r, "%s: flushing the namespace's conntrack table", n->ns));
		}
	} else if (nsfd != -ENOENT)
		RET_GATHER(first, log_errno(nsfd, "%s: opening the namespace", n->ns));

	/* Left on the host by a crash between creation and the move. */
	if (st.tmpname[0] && (r = del_link_named(st.tmpname)) < 0)
		RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface on the host", n->ns));
	if (st.has_socket && (r = wgo_stop(&st)) < 0)
		RET_GATHER(first, log_errno(r, "%s: stopping wireguard-go", n->ns));

	RET_GATHER(first, remove_resolv_conf(n));
	if ((r = rundir_remove(n->ns, RUN_WG_LOG)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing wireguard-go's log", n->ns));
	if ((r = rundir_remove(n->ns, RUN_WG)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing the wg run file", n->ns));
	if ((r = rundir_remove(n->ns, RUN_WG_STOPPING)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing the wg run file", n->ns));
	return first;
}

/* Start wireguard-go for st->tmpname; records its pid and start time in
 * st. */
static int start_wireguard_go(const struct ns_names *n, struct wg_state *st) {
	char *argv[] = { WIREGUARD_GO_PATH, "-f", st->tmpname, NULL };
	char log_level[64];
	const char *ll = getenv("LOG_LEVEL");
	char *envp[] = { "WG_PROCESS_FOREGROUND=1", log_level,
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	_cleanup_close_ int log_fd = -1;
	char sock[128];
	int r, status;

	snprintf(log_level, sizeof(log_level), "LOG_LEVEL=%s",
		 ll && (streq(ll, "verbose") || streq(ll, "debug") || streq(ll, "silent")) ? ll : "error");
	if (access(WIREGUARD_GO_PATH, X_OK) < 0) {
		r = -errno;
		fprintf(stderr, "vpn-confinement: %s: cannot run %s: %s\n", n->ns, WIREGUARD_GO_PATH, strerror(-r));
		return r;
	}
	if (!stderr_is_journal()) {
		log_fd = rundir_open_append(n->ns, RUN_WG_LOG);
		if (log_fd < 0)
			return log_fd;
	}
	r = proc_spawn_daemon(argv, envp, log_fd, &st->pid);
	if (r < 0)
		return r;
	/* Fixed at fork: with the pid it names this process and no other. */
	r = proc_start_time(st->pid, &st->pid_start);
	if (r < 0)
		return r;
	snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", st->tmpname);
	for (int i = 0; i < 5000; i++) { /* up to 10 s */
		if (waitpid(st->pid, &status, WNOHANG) == st->pid) {
			fprintf(stderr, "vpn-confinement: %s: wireguard-go exited at start with status %d%s%s\n",
				n->ns, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				log_fd >= 0 ? "; see " : "", log_fd >= 0 ? RUN_WG_LOG " in the run directory" : "");
			st->pid = 0;
			return -ECHILD;
		}
		if (access(sock, F_OK) == 0 && if_nametoindex(st->tmpname) != 0)
			return 0;
		sleep_ms(2);
	}
	fprintf(stderr, "vpn-confinement: %s: wireguard-go did not create %s in time\n", n->ns, sock);
	return -ETIMEDOUT;
}

static int wg_setconf(const char *ifname, const struct wg_config *wg) {
	char *argv[] = { WG_PATH, "setconf", (char *)ifname, "/dev/stdin", NULL };
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_output text = { 0 };
	FILE *f = proc_output_memstream(&text);
	int r;

	if (!f)
		return -ENOMEM;
	r = wgconf_write_setconf(wg, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r == 0 && !text.data)
		r = -EINVAL;
	if (r == 0) {
		o.stdin_buf = text.data;
		o.stdin_len = text.len;
		r = proc_run_step("configuring the WireGuard interface (wg setconf)", argv, &o);
	}
	proc_output_release(&text);
	return r;
}

struct wg_up_undo {
	bool state, resolv, full;
	struct wg_state st; /* the record, as it is built */
};

static int wg_up(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg,
		 struct wg_up_undo *u) {
	_cleanup_free_ char *full = NULL, *resolv = NULL;
	_cleanup_close_ int nsfd = -1;
	char buf[IPNET_STRLEN];
	unsigned idx;
	int r;

	if ((r = ruleset_ns_full_text(ns, wg, &full)) < 0)
		return log_errno(r, "%s: rendering the namespace ruleset", n->ns);
	if ((r = resolv_conf_render(wg, &resolv)) < 0)
		return r;
	if (wg->n_dns == 0)
		fprintf(stderr, "vpn-confinement: %s: warning: %s has no DNS server; the namespace has no DNS\n",
			n->ns, wg->path);

	nsfd = netns_open(n->ns);
	if (nsfd < 0 || !rundir_exists(n->ns, RUN_NETNS)) {
		fprintf(stderr, "vpn-confinement: %s: the namespace is not up (run netns-up %s first)\n", n->ns,
			n->ns);
		return -ENOENT;
	}

	/* Before anything changes: a failure here leaves a running tunnel be. */
	r = resolve_endpoints(n, wg);
	if (r < 0)
		return r;

	/* Up while up: replace the tunnel. The base ruleset holds meanwhile. */
	if (rundir_exists(n->ns, RUN_WG)) {
		fprintf(stderr, "vpn-confinement: %s: replacing the running tunnel\n", n->ns);
		if ((r = wg_teardown(n, ns, true)) < 0)
			return r;
	} else {
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if ((r = del_link_named(n->wg)) < 0)
			return log_errno(r, "%s: deleting a stale WireGuard interface", n->ns);
	}

	/* 1. Create it on the host under a temporary name. */
	if ((r = tmpname_pick(n->ns, u->st.tmpname)) < 0)
		return log_errno(r, "%s: choosing a temporary interface name", n->ns);
	u->st.implementation = "pending";
	u->st.started = (uint64_t)time(NULL);
	if ((r = wg_state_save(n->ns, &u->st)) < 0)
		return log_errno(r, "%s: writing the wg run file", n->ns);
	u->state = true;
	u->st.implementation = "kernel";
	if (ns->wg_impl != WG_IMPL_USERSPACE) {
		r = nl_link_add(u->st.tmpname, "wireguard");
		if (r < 0 && ns->wg_impl == WG_IMPL_KERNEL)
			return log_errno(r, "%s: creating the kernel WireGuard interface", n->ns);
		if (r < 0) {
			fprintf(stderr, "vpn-confinement: %s: kernel WireGuard not available (%s); using %s\n", n->ns,
				strerror(-r), WIREGUARD_GO_PATH);
			u->st.implementation = "userspace";
		}
	} else
		u->st.implementation = "userspace";
	if (streq(u->st.implementation, "userspace")) {
		u->st.has_socket = true;
		if ((r = start_wireguard_go(n, &u->st)) < 0)
			return log_errno(r, "%s: starting wireguard-go", n->ns);
	}
	if ((r = wg_state_save(n->ns, &u->st)) < 0)
		return log_errno(r, "%s: writing the wg run file", n->ns);

	/* 2. Configure it (in the host namespace; endpoints are literal now). */
	if ((r = wg_setconf(u->st.tmpname, wg)) < 0)
		return r;

	/* 3. Move it into N; rename, sysctls. */
	idx = if_nametoindex(u->st.tmpname);
	if (idx == 0)
		return log_errno(errno, "%s: finding the new interface", n->ns);
	if ((r = nl_link_set_netns((int)idx, nsfd)) < 0)
		return log_errno(r, "%s: moving the interface into the namespace", n->ns);
	{
		_cleanup_netns_leave_ int saved = -1;
		bool v6 = wg_config_has_family(wg, AF_INET6);
		char key[128];

		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		idx = if_nametoindex(u->st.tmpname);
		if (idx == 0)
			return log_errno(errno, "%s: finding the moved interface", n->ns);
		if ((r = nl_link_rename((int)idx, n->wg)) < 0)
			return log_errno(r, "%s: renaming the interface", n->ns);
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", n->wg);
		if ((r = sysctl_write(key, v6 ? "0" : "1")) < 0)
			return log_errno(r, "%s: setting disable_ipv6 on the interface", n->ns);
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", n->wg);
		if (v6 && (r = sysctl_write(key, "0")) < 0)
			return log_errno(r, "%s: setting accept_ra on the interface", n->ns);
	}

	/* 4. MTU, addresses, routes: one `ip -batch` inside N. */
	{
		char *argv[] = { IP_PATH, "-batch", "-", NULL };
		struct proc_opts o = PROC_OPTS_INIT;
		_cleanup_free_ char *b = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&b, &blen);
		bool v6 = wg_config_has_family(wg, AF_INET6);

		if (!f)
			return -ENOMEM;
		fprintf(f, "link set dev %s mtu %u\n", n->wg, wg->has_mtu ? wg->mtu : 1420u);
		for (size_t i = 0; i < wg->n_addresses; i++)
			fprintf(f, "addr replace %s dev %s%s\n", ipnet_str(&wg->addresses[i], buf), n->wg,
				wg->addresses[i].addr.family == AF_INET6 ? " nodad" : "");
		fprintf(f, "link set dev %s up\n", n->wg);
		fprintf(f, "route replace default dev %s\n", n->wg);
		if (v6)
			fprintf(f, "route replace ::/0 dev %s\n", n->wg);
		/* Host routes for the DNS servers: through the tunnel even when an
		 * AccessibleFrom range (routed via the bridge) contains them. */
		for (size_t i = 0; i < wg->n_dns; i++) {
			if (wg->dns[i].family == AF_INET)
				fprintf(f, "route replace %s/32 dev %s\n", ipaddr_str(&wg->dns[i], buf), n->wg);
			else if (v6)
				fprintf(f, "route replace %s/128 dev %s\n", ipaddr_str(&wg->dns[i], buf), n->wg);
		}
		if (fclose(f) != 0)
			return -ENOMEM;
		o.netns_fd = nsfd;
		o.stdin_buf = b;
		o.stdin_len = blen;
		if ((r = proc_run_step("configuring the tunnel's addresses and routes", argv, &o)) < 0)
			return r;
	}

	/* 5. DNS. */
	u->resolv = true;
	if ((r = write_resolv_conf(n, resolv)) < 0)
		return log_errno(r, "%s: writing resolv.conf", n->ns);

	/* 6. The full ruleset, in one transaction. */
	{
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		u->full = true;
		if ((r = runtime_nft_apply("loading the namespace ruleset", full)) < 0)
			return r;
	}

	if (u->st.has_socket)
		printf("%s: tunnel up: %s, wireguard-go pid %d, control socket " WG_SOCKET_DIR "/%s.sock\n", n->ns,
		       n->wg, (int)u->st.pid, u->st.tmpname);
	else
		printf("%s: tunnel up: %s, kernel WireGuard\n", n->ns, n->wg);
	return 0;
}

static void undo_wg_up(const struct ns_names *n, const struct ns_config *ns, const struct wg_up_undo *u) {
	fprintf(stderr, "vpn-confinement: %s: undoing what this run did\n", n->ns);
	if (!u->state)
		return;
	/* The teardown finds the interface under either name, on either side,
	 * stops wireguard-go, restores the base ruleset. */
	wg_teardown(n, ns, true);
	/* A wireguard-go that never got recorded (it failed to start). */
	if (u->st.has_socket && u->st.pid > 0 && waitpid(u->st.pid, NULL, WNOHANG) == 0) {
		kill(u->st.pid, SIGKILL);
		waitpid(u->st.pid, NULL, 0);
	}
}

/* wg-up --foreground: stay, and watch the tunnel. A requested stop (SIGTERM,
 * SIGINT) takes it down and exits 0; its death (wireguard-go exited, N0
 * deleted) takes it down, puts the base ruleset back and exits 1, so that a
 * Type=notify unit with Restart=on-failure brings it up again. */
/* The host side of the namespace outlives a host firewall reload only if
 * someone puts it back: `nft flush ruleset` (a firewall's reload, NixOS's
 * flushRuleset) removes the host table (port mappings, the guard) and the
 * forwarding guard, while the forwarding netns-up turned on stays on, and
 * the host would then forward from the LAN to all its networks. Put both
 * back; if that fails, turn the forwarding off. Called when nftables
 * changes in the host namespace, and every few seconds. */
static void host_side_ensure(const struct ns_names *n, const struct ns_config *ns) {
	int r;

	{
		/* Under the lock netns-down deletes the table with, and only
		 * while the namespace and the tunnel are up and staying. */
		_cleanup_close_ int lock = rundir_lock();
		_cleanup_free_ char *host = NULL;

		if (lock < 0 || !rundir_exists(n->ns, RUN_NETNS) || !rundir_exists(n->ns, RUN_WG) ||
		    rundir_exists(n->ns, RUN_WG_STOPPING))
			return;
		if (!runtime_nft_table_exists(n->host_table)) {
			r = ruleset_host_text(ns, &host);
			if (r == 0)
				r = runtime_nft_apply("putting the host table back", host);
			if (r == 0)
				fprintf(stderr,
					"vpn-confinement: %s: the host table inet %s was gone (a firewall reload?); put it back\n",
					n->ns, n->host_table);
		}
	}
	r = hostfwd_guard_update(true);
	if (r == 1)
		fprintf(stderr, "vpn-confinement: %s: the forwarding guard (table inet %s) was gone; put it back\n", n->ns,
			FORWARD_GUARD_TABLE);
	if (r < 0) {
		fprintf(stderr, "vpn-confinement: %s: cannot put the forwarding guard back (%s); turning forwarding for the port mappings off\n",
			n->ns, strerror(-r));
		r = hostfwd_release(n->ns);
		if (r < 0)
			log_errno(r, "%s: turning forwarding off", n->ns);
	}
}

#define HOST_CHECK_INTERVAL_MS 5000

/* wg-up --foreground: stay, and watch the tunnel and the host side. A
 * requested stop (SIGTERM, SIGINT) takes it down and exits 0; its death
 * (wireguard-go exited, N0 deleted) takes it down, puts the base ruleset
 * back and exits 1, so that a Type=notify unit with Restart=on-failure
 * brings it up again. */
static int supervise(const struct ns_names *n, const struct ns_config *ns, const struct wg_up_undo *u,
		     int sigfd) {
	_cleanup_close_ int nsfd = netns_open(n->ns), mon = -1, nftmon = -1;
	const char *why = NULL;
	char whybuf[128];
	int ifindex = 0, r;

	if (nsfd < 0)
		return log_errno(nsfd, "%s: opening the namespace", n->ns);
	{
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		mon = nl_link_monitor_open();
		ifindex = (int)if_nametoindex(n->wg);
	}
	if (mon < 0)
		return log_errno(mon, "%s: watching the namespace's links", n->ns);
	nftmon = nl_nft_monitor_open(); /* in the host namespace */
	if (nftmon < 0)
		return log_errno(nftmon, "%s: watching the host's nftables", n->ns);
	if (ifindex == 0)
		why = "the interface disappeared";
	sd_notifyf(0, "READY=1\nSTATUS=tunnel %s up (%s)", n->wg, u->st.has_socket ? "wireguard-go" : "kernel");

	while (!why) {
		struct pollfd pf[3] = { { .fd = sigfd, .events = POLLIN },
					{ .fd = mon, .events = POLLIN },
					{ .fd = nftmon, .events = POLLIN } };
		struct signalfd_siginfo si;
		int k = poll(pf, 3, HOST_CHECK_INTERVAL_MS);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(-errno, "%s: waiting", n->ns);
		}
		if (pf[0].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				sd_notify(0, "STOPPING=1\nSTATUS=taking the tunnel down");
				fprintf(stderr, "vpn-confinement: %s: stopping: taking the tunnel down\n", n->ns);
				return wg_teardown(n, ns, true) < 0 ? EXIT_FAIL : EXIT_OK;
			}
			if (si.ssi_signo == SIGCHLD && u->st.pid > 0) {
				int status;
				if (waitpid(u->st.pid, &status, WNOHANG) == u->st.pid) {
					snprintf(whybuf, sizeof(whybuf), "wireguard-go (pid %d) exited with status %d",
						 (int)u->st.pid,
						 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
					why = whybuf;
				}
			}
		}
		if (!why && pf[1].revents) {
			r = nl_link_monitor_read(mon, ifindex);
			if (r == 1)
				why = "the interface was deleted";
		}
		/* An nftables change on the host, or the periodic look. */
		if (!why && (k == 0 || (pf[2].revents && nl_monitor_drain(nftmon) != 0)))
			host_side_ensure(n, ns);
	}
	if (!rundir_exists(n->ns, RUN_WG) || rundir_exists(n->ns, RUN_WG_STOPPING)) {
		/* wg-down (ExecStop=) is taking it down. */
		fprintf(stderr, "vpn-confinement: %s: the tunnel was taken down\n", n->ns);
		return EXIT_OK;
	}
	sd_notifyf(0, "STATUS=tunnel died: %s", why);
	fprintf(stderr, "vpn-confinement: %s: the tunnel died: %s; taking it down (the kill switch holds)\n", n->ns,
		why);
	wg_teardown(n, ns, true);
	return EXIT_FAIL;
}

int cmd_wg_up(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
	_cleanup_close_ int sigfd = -1;
	struct wg_up_undo u = { 0 };
	struct ns_names n;
	const char *name = NULL;
	bool foreground = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--foreground"))
			foreground = true;
		else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement wg-up N [--foreground]\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			name = NULL, i = argc;
	}
	if (!name) {
		fprintf(stderr, "vpn-confinement: usage: vpn-confinement wg-up N [--foreground]\n");
		return EXIT_USAGE;
	}
	if (ns_names_init(&n, name) < 0)
		return EXIT_USAGE;
	if ((r = runtime_load_config(name, &ns)) != 0)
		return r;
	if ((r = runtime_load_wg(ns, &wg)) != 0)
		return r;
	if (foreground) {
		/* Blocked from the start: a stop during the bring-up is handled
		 * once it is done (children get an empty mask, see proc.c). */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGCHLD);
		if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
			fprintf(stderr, "vpn-confinement: signalfd: %s\n", strerror(errno));
			return EXIT_FAIL;
		}
	}
	fflush(stdout);
	r = wg_up(&n, ns, wg, &u);
	if (r != 0) { /* anything but success is a failure */
		undo_wg_up(&n, ns, &u);
		fprintf(stderr, "vpn-confinement: %s: wg-up failed\n", n.ns);
		return EXIT_FAIL;
	}
	if (!foreground)
		return EXIT_OK;
	fflush(stdout);
	/* The key is not needed any more while we wait. */
	wg_config_free(TAKE_PTR(wg));
	return supervise(&n, ns, &u, sigfd);
}

int cmd_wg_down(int argc, char **argv) {
	struct ns_config name_only = { 0 };
	struct ns_names n;
	const char *name;
	int r;

	r = parse_ns_arg(argc, argv, "wg-down N", &name);
	if (r >= 0)
		return r;
	if (ns_names_init(&n, name) < 0)
		return EXIT_USAGE;
	/* The base ruleset depends on the name only: tear down even when the
	 * ini is gone or broken by now. */
	snprintf(name_only.name, sizeof(name_only.name), "%s", n.ns);
	r = wg_teardown(&n, &name_only, true);
	if (r < 0) {
		fprintf(stderr, "vpn-confinement: %s: wg-down failed\n", n.ns);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
