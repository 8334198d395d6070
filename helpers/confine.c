/* SPDX-License-Identifier: MIT */
#include "confine.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "confinement.h"
#include "creds.h"
#include "diag.h"
#include "log.h"
#include "mounts.h"
#include "netns.h"
#include "proc.h"
#include "rundir.h"
#include "ruleset.h"
#include "seccomp.h"
#include "status.h"
#include "util.h"

/* systemd's PATH for services without one. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- is the namespace up, with its kill switch? ---------------------------- */

static int check_up(const struct ns_names *n) {
	_cleanup_(status_clear) struct ns_facts f = { 0 };
	int r = status_gather_killswitch(&f, n);

	if (r < 0)
		return log_errno(r, "%s: finding out whether the namespace is up", n->ns);
	if (!f.config_present)
		log_msg("%s: no %s", n->ns, f.config_path);
	else if (!f.cfg)
		log_msg("%s: %s has errors (vpn-confinement check %s says which)", n->ns, f.config_path, n->ns);
	else if (!f.netns_exists)
		log_msg("%s: the namespace is not up (no %s; systemctl start vpn-ns@%s)", n->ns, n->netns_path, n->ns);
	else if (!f.managed)
		log_msg("%s: %s was not made by vpn-confinement (no %s/%s/%s)", n->ns, n->netns_path, rundir(), n->ns,
			RUN_NETNS);
	else if (f.ns_rs == RS_ABSENT)
		log_msg("%s: its kill switch is not loaded (no table inet %s in the namespace)", n->ns, NS_TABLE_NAME);
	else if (f.ns_rs == RS_DIFFERS)
		log_msg("%s: its ruleset differs from what `vpn-confinement ruleset %s` renders (%s form; vpn-confinement check %s)",
			n->ns, n->ns, f.ns_rs_expected, n->ns);
	else if (f.ns_rs != RS_MATCHES)
		log_msg("%s: cannot tell whether its kill switch is loaded (vpn-confinement check %s)", n->ns, n->ns);
	else {
		if (f.host_rs != RS_MATCHES)
			log_msg("%s: warning: the host table inet %s is %s (the namespace's ruleset holds; vpn-confinement check %s)",
				n->ns, n->host_table, rs_state_str(f.host_rs), n->ns);
		return 0;
	}
	return -EHOSTDOWN;
}

/* ---- who it runs as ------------------------------------------------------------ */

struct user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int n_groups;
	char *name, *home, *shell;
};

static void user_clear(struct user *u) {
	free(u->groups);
	free(u->name);
	free(u->home);
	free(u->shell);
}

/* spec: a name or a numeric uid; NULL: root, with no supplementary group. */
static int user_lookup(const char *spec, struct user *u) {
	const struct passwd *pw;
	uint64_t uid;

	errno = 0;
	pw = getpwnam(spec ? spec : "root");
	if (!pw && spec && parse_uint(spec, 0, UINT32_MAX - 1, &uid) == 0)
		pw = getpwuid((uid_t)uid);
	if (!pw && !spec)
		pw = getpwuid(0);
	if (!pw && spec)
		return -ESRCH;
	*u = (struct user){ .uid = pw ? pw->pw_uid : 0, .gid = pw ? pw->pw_gid : 0 };
	u->name = strdup(pw ? pw->pw_name : "root");
	u->home = strdup(pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	u->shell = strdup(pw && pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	if (!u->name || !u->home || !u->shell)
		return -ENOMEM;
	if (!spec)
		return 0;
	/* Its groups, as initgroups() would set them. */
	for (int size = 16;; size *= 2) {
		int n = size;

		free(u->groups);
		u->groups = calloc((size_t)size, sizeof(gid_t));
		if (!u->groups)
			return -ENOMEM;
		if (getgrouplist(u->name, u->gid, u->groups, &n) >= 0) {
			u->n_groups = n;
			return 0;
		}
		if (size > 65536)
			return -E2BIG;
	}
}

/* ---- the environment ------------------------------------------------------------ */

static bool env_kept(const char *entry) {
	static const char *const keep[] = { "PATH", "TERM", "COLORTERM", "NO_COLOR", "LANG", "LANGUAGE", "TZ" };
	size_t len = strcspn(entry, "=");

	if (!entry[len])
		return false;
	if (strncmp(entry, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(keep); i++)
		if (len == strlen(keep[i]) && strncmp(entry, keep[i], len) == 0)
			return true;
	return false;
}

/* "PREFIXVALUE" appended. */
static int env_add(char ***env, size_t *n, const char *prefix, const char *value) {
	char *e;

	if (asprintf(&e, "%s%s", prefix, value) < 0)
		return -ENOMEM;
	if (array_append((void **)env, n, sizeof(e), &e) < 0) {
		free(e);
		return -ENOMEM;
	}
	return 0;
}

static int env_make(const struct user *u, char ***out, size_t *n_out) {
	extern char **environ;
	char **env = NULL;
	size_t n = 0;
	bool path = false;
	int r = 0;

	for (char **e = environ; e && *e && r == 0; e++)
		if (env_kept(*e)) {
			path |= strncmp(*e, "PATH=", 5) == 0;
			r = env_add(&env, &n, "", *e);
		}
	if (r == 0 && !path)
		r = env_add(&env, &n, "PATH=", DEFAULT_PATH);
	if (r == 0)
		r = env_add(&env, &n, "HOME=", u->home);
	if (r == 0)
		r = env_add(&env, &n, "USER=", u->name);
	if (r == 0)
		r = env_add(&env, &n, "LOGNAME=", u->name);
	if (r == 0)
		r = env_add(&env, &n, "SHELL=", u->shell);
	/* NULL-terminated (not counted). */
	if (r == 0) {
		char *end = NULL;
		if (array_append((void **)&env, &n, sizeof(end), &end) < 0)
			r = -ENOMEM;
		else
			n--;
	}
	if (r < 0) {
		strv_free(env, n);
		return r;
	}
	*out = env;
	*n_out = n;
	return 0;
}

/* ---- what is out of sight --------------------------------------------------------- */

struct hidden {
	char *path; /* resolved */
	bool dir;
};

struct hidden_list {
	struct hidden *v;
	size_t n;
};

static void hidden_list_clear(struct hidden_list *l) {
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

/* path, with links followed, once; a missing one is left out unless
 * required. skip: a resolved path that is not to be listed (the run
 * directory, covered last). */
static int hidden_add(struct hidden_list *l, const char *path, bool required, const char *skip) {
	_cleanup_free_ char *real = realpath(path, NULL);
	struct stat st;

	if (!real || stat(real, &st) < 0) {
		if (!required && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return log_errno(errno, "exec: finding %s", path);
	}
	if (skip && streq(real, skip))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].path, real))
			return 0;
	if (ARRAY_APPEND(l->v, l->n, ((struct hidden){ .path = real, .dir = S_ISDIR(st.st_mode) })) < 0)
		return -ENOMEM;
	real = NULL;
	return 0;
}

/* Deepest first: a path inside another is covered before the other is. */
static int hidden_cmp(const void *a, const void *b) {
	return strcmp(((const struct hidden *)b)->path, ((const struct hidden *)a)->path);
}

/* What the confinement drop-in makes inaccessible but the run directory
 * (the caller covers it last): the configuration directory, every
 * namespace's WireGuard configuration, the resolvers', the service
 * managers' paths. */
static int hidden_collect(const char *run, struct hidden_list *l) {
	_cleanup_(ns_config_set_clear) struct ns_config_set set = { 0 };
	_cleanup_(diag_clear) struct diag d = { 0 };
	_cleanup_free_ const char **wg = NULL;
	size_t n_wg = 0;
	int r;

	/* The same view as the generator's: every file, valid or not. */
	r = ns_config_load_dir(confdir(), &set, &d);
	if (r == -ENOMEM || (r = confinement_wg_files(&set, &wg, &n_wg)) < 0)
		return -ENOMEM;
	if ((r = hidden_add(l, confdir(), false, run)) < 0)
		return r;
	for (size_t i = 0; i < n_wg; i++)
		if ((r = hidden_add(l, wg[i], false, run)) < 0)
			return r;
	for (size_t i = 0; i < n_confinement_resolver_paths; i++)
		if ((r = hidden_add(l, confinement_resolver_paths[i], false, run)) < 0)
			return r;
	for (size_t i = 0; i < n_confinement_manager_paths; i++)
		if ((r = hidden_add(l, confinement_manager_paths[i], false, run)) < 0)
			return r;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), hidden_cmp);
	return 0;
}

/* ---- the mounts ------------------------------------------------------------------ */

static int file_make(const char *dir, const char *name, mode_t mode, const char *content) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = content ? strlen(content) : 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (len && write(fd, content, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

/* The namespace's resolv.conf (open at fd) over /etc/resolv.conf and
 * /run/systemd/resolve's two, in a read-only tmpfs there (made where
 * /run/systemd is, as systemd makes it), as the drop-in's
 * TemporaryFileSystem= and BindReadOnlyPaths= do. */
static int mount_resolv(const char *ns, int fd) {
	static const char *const resolve_dir = "/run/systemd/resolve";
	static const char *const resolve_files[] = { "stub-resolv.conf", "resolv.conf" };
	_cleanup_free_ char *etc = NULL;
	char src[64], dst[PATH_MAX];
	struct stat st;
	int r;

	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (stat("/run/systemd", &st) == 0 && S_ISDIR(st.st_mode)) {
		if (mkdir(resolve_dir, 0755) < 0 && errno != EEXIST)
			return log_errno(errno, "%s: exec: making %s", ns, resolve_dir);
		if ((r = mounts_tmpfs(resolve_dir, 0755)) < 0)
			return log_errno(r, "%s: exec: an empty file system over %s", ns, resolve_dir);
		for (size_t i = 0; i < ELEMENTSOF(resolve_files); i++) {
			snprintf(dst, sizeof(dst), "%s/%s", resolve_dir, resolve_files[i]);
			if ((r = file_make(resolve_dir, resolve_files[i], 0644, NULL)) < 0 ||
			    (r = mounts_bind_ro(src, dst)) < 0)
				return log_errno(r, "%s: exec: the namespace's resolv.conf over %s", ns, dst);
		}
		if ((r = mounts_make_ro(resolve_dir)) < 0)
			return log_errno(r, "%s: exec: making %s read-only", ns, resolve_dir);
	}
	/* Through a link: where /etc/resolv.conf leads (into the tmpfs above,
	 * for systemd-resolved and NixOS). */
	etc = realpath("/etc/resolv.conf", NULL);
	if (!etc)
		return log_errno(errno, "%s: exec: finding /etc/resolv.conf (or where its link leads)", ns);
	if ((r = mounts_bind_ro(src, etc)) < 0)
		return log_errno(r, "%s: exec: the namespace's resolv.conf over %s", ns, etc);
	return 0;
}

/* The scratch file system at the run directory (hidden in the end
 * anyway): the confinement's nsswitch.conf, and the empty mode-0 nodes
 * bound over what is made inaccessible, "d" and "f", as systemd's
 * /run/systemd/inaccessible/. Read-only once made. */
static int mount_scratch(const char *ns, const char *run) {
	_cleanup_free_ char *d = NULL;
	int r;

	if ((r = mounts_tmpfs(run, 0700)) < 0)
		return log_errno(r, "%s: exec: a scratch file system over %s", ns, run);
	if (asprintf(&d, "%s/d", run) < 0)
		return -ENOMEM;
	if ((r = file_make(run, "nsswitch.conf", 0644, confinement_nsswitch)) < 0 || (r = file_make(run, "f", 0, NULL)) < 0)
		return log_errno(r, "%s: exec: the scratch file system", ns);
	if (mkdir(d, 0) < 0)
		return log_errno(errno, "%s: exec: the scratch file system", ns);
	if ((r = mounts_make_ro(run)) < 0)
		return log_errno(r, "%s: exec: the scratch file system", ns);
	return 0;
}

static int mount_nsswitch(const char *ns, const char *run) {
	_cleanup_free_ char *src = NULL, *etc = realpath("/etc/nsswitch.conf", NULL);
	int r;

	if (!etc)
		return log_errno(errno, "%s: exec: finding /etc/nsswitch.conf", ns);
	if (asprintf(&src, "%s/nsswitch.conf", run) < 0)
		return -ENOMEM;
	if ((r = mounts_bind_ro(src, etc)) < 0)
		return log_errno(r, "%s: exec: the confinement's nsswitch.conf over %s", ns, etc);
	return 0;
}

/* wireguard-go's socket directories and /etc/netns: an empty read-only
 * file system each (made first when missing, as systemd makes the
 * mount points of TemporaryFileSystem=), so that what is made there later
 * stays out of sight too. */
static int mount_empty_dirs(const char *ns) {
	_cleanup_(hidden_list_clear) struct hidden_list done = { 0 };
	int r;

	for (size_t i = 0; i < n_confinement_empty_dirs; i++) {
		const char *dir = confinement_empty_dirs[i];

		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return log_errno(errno, "%s: exec: making %s", ns, dir);
		if ((r = hidden_add(&done, dir, true, NULL)) < 0)
			return r;
	}
	for (size_t i = 0; i < done.n; i++)
		if ((r = mounts_tmpfs(done.v[i].path, 0755)) < 0 || (r = mounts_make_ro(done.v[i].path)) < 0)
			return log_errno(r, "%s: exec: an empty file system over %s", ns, done.v[i].path);
	return 0;
}

static int mount_inaccessible(const char *ns, const char *run, const struct hidden_list *l) {
	_cleanup_free_ char *d = NULL, *f = NULL;
	int r;

	if (asprintf(&d, "%s/d", run) < 0 || asprintf(&f, "%s/f", run) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if ((r = mounts_bind_ro(l->v[i].dir ? d : f, l->v[i].path)) < 0)
			return log_errno(r, "%s: exec: making %s inaccessible", ns, l->v[i].path);
	/* Last, the run directory, over the scratch file system. */
	if ((r = mounts_bind_ro(d, run)) < 0)
		return log_errno(r, "%s: exec: making %s inaccessible", ns, run);
	return 0;
}

/* ---- the rest -------------------------------------------------------------------- */

/* No descriptor of the caller's but 0, 1, 2 reaches the command (one of a
 * socket in the host's network would be a way around the namespace). */
static int close_inherited(void) {
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Before Linux 5.11: each one. */
	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t fd;
		if (parse_uint(de->d_name, 3, INT_MAX, &fd) == 0 && (int)fd != dirfd(d) &&
		    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			return -errno;
	}
	return 0;
}

int confine_self(const struct ns_names *n, const struct confine_opts *o, char ***env, size_t *n_env) {
	_cleanup_(user_clear) struct user u = { 0 };
	_cleanup_(hidden_list_clear) struct hidden_list hidden = { 0 };
	_cleanup_free_ char *run = NULL, *cwd = NULL;
	_cleanup_close_ int nsfd = -1, resolv = -1;
	int saved = -1, r;

	if (geteuid() != 0) {
		log_msg("%s: exec needs root (it enters the namespace and mounts; --user runs the command as another user)",
			n->ns);
		return -EPERM;
	}
	if ((r = check_up(n)) < 0)
		return r;
	/* Looked up with the host's name services, before they are replaced. */
	r = user_lookup(o->user, &u);
	if (r == -ESRCH) {
		log_msg("%s: exec: no such user '%s'", n->ns, o->user);
		return r;
	}
	if (r < 0)
		return log_errno(r, "%s: exec: looking up the user", n->ns);
	if ((r = env_make(&u, env, n_env)) < 0)
		return log_errno(r, "%s: exec: the environment", n->ns);
	cwd = getcwd(NULL, 0);
	run = realpath(rundir(), NULL);
	if (!run)
		return log_errno(errno, "%s: exec: finding the run directory %s", n->ns, rundir());
	if ((r = hidden_collect(run, &hidden)) < 0)
		return r;
	/* The network namespace, for good. */
	nsfd = netns_open(n->ns);
	if (nsfd < 0 || (r = netns_enter(nsfd, &saved)) < 0)
		return log_errno(nsfd < 0 ? nsfd : r, "%s: exec: entering the namespace", n->ns);
	close(saved);

	/* Its own mounts. */
	if ((r = mounts_unshare()) < 0)
		return log_errno(r, "%s: exec: a mount namespace of its own", n->ns);
	/* Opened here: a bind mount's source must be a mount of this
	 * namespace. */
	resolv = rundir_open_read(n->ns, RUN_RESOLV);
	if (resolv < 0)
		return log_errno(resolv, "%s: exec: opening the namespace's resolv.conf", n->ns);
	if ((r = mount_resolv(n->ns, resolv)) < 0 || (r = mount_empty_dirs(n->ns)) < 0 ||
	    (r = mount_scratch(n->ns, run)) < 0 || (r = mount_nsswitch(n->ns, run)) < 0 ||
	    (r = mount_inaccessible(n->ns, run, &hidden)) < 0)
		return r;

	/* Its credentials: the capabilities first (that needs CAP_SETPCAP),
	 * then the user, then no way back up. */
	if ((r = creds_drop_caps(confinement_caps, n_confinement_caps)) < 0)
		return log_errno(r, "%s: exec: dropping the capabilities of the confinement", n->ns);
	/* (Without CAP_SYS_RESOURCE, in a container, the command goes without
	 * core dumps.) */
	if ((r = proc_core_limit_restore()) < 0 && r != -EPERM)
		return log_errno(r, "%s: exec: the core dump limit", n->ns);
	if ((r = creds_become(u.uid, u.gid, u.groups, (size_t)u.n_groups)) < 0)
		return log_errno(r, "%s: exec: becoming %s", n->ns, u.name);
	if ((r = creds_no_new_privs()) < 0 || (r = seccomp_restrict_namespaces()) < 0)
		return log_errno(r, "%s: exec: the namespace filter", n->ns);

	if (!cwd || chdir(cwd) < 0) {
		if (cwd)
			log_msg("%s: exec: warning: %s cannot enter %s (%s); running in /", n->ns, u.name, cwd,
				strerror(errno));
		if (chdir("/") < 0)
			return log_errno(errno, "%s: exec: entering /", n->ns);
	}
	if ((r = close_inherited()) < 0)
		return log_errno(r, "%s: exec: closing inherited descriptors", n->ns);
	return 0;
}

int confine_execute(char *const argv[], char *const env[]) {
	for (char *const *e = env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0 && setenv("PATH", *e + 5, 1) < 0)
			return -errno;
	execvpe(argv[0], argv, env);
	return -errno;
}
