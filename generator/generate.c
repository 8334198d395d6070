/* SPDX-License-Identifier: MIT */
/* What the generator writes, and why, is in vpn-confinement-generator(8) and
 * docs/ARCHITECTURE.md. In short, for namespace N:
 *
 *   multi-user.target.wants/vpn-ns@N.service -> UNITDIR/vpn-ns@.service
 *   {netns,wg-up,vpn-ns,vpn-online}@N.service.d/50-vpn-confinement.conf
 *   UNIT.d/50-vpn-confinement.conf          for each confined UNIT
 *
 * A namespace whose file has errors is written fail-closed: the same files,
 * with the four instance units made to fail with the messages and every
 * unit the file lists confined and made to fail too. A unit listed by a
 * file whose name is no namespace name ("Tr.ini") gets a drop-in that makes
 * it fail, in a namespace that never exists.
 *
 * Everything written is either this file's own text or a value that was
 * validated (names, paths) and escaped for the setting it goes into. */
#include "generate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "confinement.h"
#include "config.h"
#include "names.h"
#include "text.h"
#include "unitfile.h"
#include "util.h"

/* One namespace to write: from a parsed file, or only a name when its file
 * could not be read at all. */
struct ns_out {
	const char *name;
	const char *source_path;
	const struct config_path *wg_configs; /* none when unknown */
	size_t n_wg_configs;
	const struct confined_unit *units; /* services and sockets */
	size_t n_units;
	bool hardening;
	bool port_forwarding; /* PortForwarding=natpmp in a valid file */
	bool failed;
	char *const *errors; /* "file:line: message"; may be empty when failed */
	size_t n_errors;
};

/* The namespace a file named like one gives: what could be read of it. */
static struct ns_out ns_out_of(const struct config_file *f) {
	const struct ns_config *c = f->config;

	return (struct ns_out){
		.name = f->name,
		.source_path = f->path,
		.wg_configs = c ? c->wg_configs : NULL,
		.n_wg_configs = c ? c->n_wg_configs : 0,
		.units = c ? c->units : NULL,
		.n_units = c ? c->n_units : 0,
		.hardening = c ? c->hardening : true,
		.port_forwarding = c && f->state == CONFIG_VALID && c->pf.enabled,
		.failed = f->state != CONFIG_VALID,
		.errors = f->errors,
		.n_errors = f->n_errors,
	};
}

struct ctx {
	const struct gen_paths *p;
	/* The WireGuard configuration files of every namespace file read:
	 * hidden from every confined service (they hold the keys). */
	const char **wg_files;
	size_t n_wg_files;
	int out_fd;
	struct diag *d;
	struct gen_stats *stats;
	gen_written_fn written;
	void *userdata;
	/* Directories shared by many files, made once. */
	bool share_dir_made, wants_dir_made;
};

static void ctx_done(struct ctx *x) { free(x->wg_files); }

/* ---- output ------------------------------------------------------------ */

static int report_write_error(struct ctx *x, const char *what, const char *path, int r) {
	int k = diag_error(x->d, NULL, 0, "cannot %s '%s' in the output directory: %s", what, path,
			   strerror(-r));
	return k == -ENOMEM ? k : r;
}

/* Something the loader validated did not pass the writer's own check. */
static int refuse(struct ctx *x, const char *what, const char *value) {
	int k = diag_error(x->d, NULL, 0, "internal error: refusing to write %s '%s'", what, value);
	return k == -ENOMEM ? k : -EIO;
}

/* made: NULL for a directory of its own, or a flag that says it exists. */
static int ensure_dir(struct ctx *x, const char *dir, bool *made) {
	if (made && *made)
		return 0;
	if (mkdirat(x->out_fd, dir, 0755) < 0 && errno != EEXIST)
		return report_write_error(x, "create directory", dir, -errno);
	if (made)
		*made = true;
	return 0;
}

static int write_file(struct ctx *x, const char *dir, bool *dir_made, const char *name,
		      const char *text, size_t len) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t done = 0;
	int r;

	r = ensure_dir(x, dir, dir_made);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	/* O_EXCL: systemd hands us empty directories, so an existing file
	 * means two namespaces claimed the same unit: never overwrite. */
	fd = openat(x->out_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return report_write_error(x, "create", path, -errno);
	while (done < len) {
		ssize_t k = write(fd, text + done, len - done);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return report_write_error(x, "write", path, -errno);
		}
		done += (size_t)k;
	}
	if (close(TAKE_FD(fd)) < 0)
		return report_write_error(x, "write", path, -errno);
	x->stats->files++;
	if (x->written)
		x->written(x->userdata, path);
	return 0;
}

static int write_link(struct ctx *x, const char *dir, bool *dir_made, const char *name,
		      const char *target) {
	_cleanup_free_ char *path = NULL;
	int r;

	r = ensure_dir(x, dir, dir_made);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	if (symlinkat(target, x->out_fd, path) < 0)
		return report_write_error(x, "create link", path, -errno);
	x->stats->files++;
	if (x->written)
		x->written(x->userdata, path);
	return 0;
}

/* ---- pieces of unit files ---------------------------------------------- */

/* "SETTING=HELPER config-error NS "msg"...": the command that fails a unit
 * with the configuration's messages, so that the reason reaches the journal
 * through the unit itself (a generator's own log may be lost: containers
 * have no /dev/kmsg). */
static int put_error_command(FILE *f, const struct ctx *x, const char *setting, const char *ns,
			     char *const *errors, size_t n_errors) {
	fprintf(f, "%s%s config-error %s", setting, x->p->helper, ns);
	if (n_errors == 0) {
		_cleanup_free_ char *q = unit_exec_arg_quote(
			"the configuration was rejected; run 'vpn-confinement check' for details", 0);
		if (!q)
			return -ENOMEM;
		fprintf(f, " %s", q);
	}
	for (size_t i = 0; i < n_errors && i < GEN_MAX_MESSAGES; i++) {
		_cleanup_free_ char *q = unit_exec_arg_quote(errors[i], GEN_MAX_MESSAGE_LEN);
		if (!q)
			return -ENOMEM;
		fprintf(f, " %s", q);
	}
	if (n_errors > GEN_MAX_MESSAGES)
		fprintf(f, " \"(%zu more errors; run 'vpn-confinement check')\"",
			n_errors - GEN_MAX_MESSAGES);
	fputc('\n', f);
	return 0;
}

static int write_nsswitch(struct ctx *x) {
	_cleanup_free_ char *text = NULL;

	if (asprintf(&text, "%s%s", GENERATED_HEADER, confinement_nsswitch) < 0)
		return -ENOMEM;
	return write_file(x, SHARE_DIR, &x->share_dir_made, "nsswitch.conf", text, strlen(text));
}

/* The [Unit] dependencies of every unit confined to namespace ns. */
static void put_unit_dependencies(FILE *f, const struct ns_out *ns, const char *netns_unit,
				  const char *vpnns_unit) {
	fprintf(f,
		"\n[Unit]\n"
		"# Runs only while the namespace and its kill switch are up; stopped\n"
		"# (and restarted) with them. The tunnel, wg-up@%s, may come and go.\n"
		"BindsTo=%s\n"
		"After=%s\n"
		"# Starting this unit brings up the whole namespace, tunnel included.\n"
		"Wants=%s\n",
		ns->name, netns_unit, netns_unit, vpnns_unit);
}

/* Every WireGuard configuration (the keys), wireguard-go's control
 * sockets and ip-netns's files (empty read-only file systems), and the
 * service managers' private sockets: out of reach of a confined service
 * and of vpn-portfwd@N's hook. */
static int put_hidden(FILE *f, const struct ctx *x) {
	for (size_t i = 0; i < x->n_wg_files; i++) {
		_cleanup_free_ char *wg = unit_escape_specifiers(x->wg_files[i]);
		if (!wg)
			return -ENOMEM;
		fprintf(f, "InaccessiblePaths=-%s\n", wg);
	}
	for (size_t i = 0; i < n_confinement_empty_dirs; i++)
		fprintf(f, "TemporaryFileSystem=%s:ro\n", confinement_empty_dirs[i]);
	for (size_t i = 0; i < n_confinement_manager_paths; i++)
		fprintf(f, "InaccessiblePaths=-%s\n", confinement_manager_paths[i]);
	return 0;
}

/* What a confined process must never reach, whatever the hardening (or an
 * admin's override of it) says; see vpn-confinement-generator(8). */
static int put_confinement(FILE *f, const struct ctx *x) {
	_cleanup_free_ char *rundir = unit_escape_specifiers(x->p->run_dir);
	_cleanup_free_ char *confdir = unit_escape_specifiers(x->p->conf_dir);

	if (!rundir || !confdir)
		return -ENOMEM;
	fprintf(f,
		"\n# Out of reach, root or not, whatever the hardening below or an override\n"
		"# of it says: the helper's run directory (mounts apply in the order of\n"
		"# their destinations, so the resolv.conf binds above come first), the\n"
		"# namespace files and WireGuard configurations (the keys), wireguard-go's\n"
		"# control sockets and ip-netns's files (empty read-only file systems, so\n"
		"# that what is made there later stays out of sight too), and the service\n"
		"# managers' private sockets, through which root would start a process\n"
		"# outside the namespace. See vpn-confinement-generator(8).\n"
		"InaccessiblePaths=%s\n"
		"InaccessiblePaths=-%s\n",
		rundir, confdir);
	if (put_hidden(f, x) < 0)
		return -ENOMEM;
	fputs("# Capabilities that would undo the namespace: reconfiguring it or its\n"
	      "# tunnel, raw packets, mounts and setns() (NET_ADMIN, NET_RAW, SYS_ADMIN);\n"
	      "# ptrace, pidfd_getfd() and /proc/PID/mem of wireguard-go and the\n"
	      "# tunnel's supervisor, whose sockets are in the host's network\n"
	      "# (SYS_PTRACE); kernel code and memory (SYS_MODULE, SYS_RAWIO, BPF,\n"
	      "# PERFMON, SYS_BOOT); files opened by handle past the paths hidden above\n"
	      "# (DAC_READ_SEARCH). A later drop-in that adds one back (a list without\n"
	      "# '~') or sets RestrictNamespaces=no voids the confinement.\n"
	      "CapabilityBoundingSet=~",
	      f);
	for (size_t i = 0; i < n_confinement_caps; i++)
		fprintf(f, "%s%s", i ? " " : "", confinement_caps[i].name);
	fputs("\nRestrictNamespaces=yes\n", f);
	return 0;
}

/* The drop-in of every service confined to namespace ns (socket false), or
 * of every socket unit (socket true). It names no unit, so one text serves
 * them all. */
static int render_confinement(const struct ctx *x, const struct ns_out *ns, bool socket,
			      struct text *t) {
	char netns_path[NS_PATH_SIZE], netns_unit[NS_UNIT_NAME_SIZE], vpnns_unit[NS_UNIT_NAME_SIZE];
	_cleanup_free_ char *source = NULL, *rundir = NULL, *outdir = NULL;
	FILE *f;
	int r;

	if (ns_netns_path(ns->name, netns_path) < 0 || ns_unit_name("netns", ns->name, netns_unit) < 0 ||
	    ns_unit_name("vpn-ns", ns->name, vpnns_unit) < 0)
		return -EINVAL;
	source = unit_escape_specifiers(ns->source_path);
	rundir = unit_escape_specifiers(x->p->run_dir);
	outdir = unit_escape_specifiers(x->p->out_dir);
	if (!source || !rundir || !outdir)
		return -ENOMEM;
	r = text_open(t, false);
	if (r < 0)
		return r;
	f = t->f;

	fputs(GENERATED_HEADER, f);
	if (socket)
		fprintf(f,
			"# Makes the sockets of this socket unit in VPN namespace \"%s\",\n"
			"# configured in %s, for the confined\n"
			"# service it starts. See vpn-confinement-generator(8).\n",
			ns->name, source);
	else
		fprintf(f,
			"# Confines this service to VPN namespace \"%s\", configured in\n"
			"# %s. See vpn-confinement-generator(8).\n",
			ns->name, source);
	if (ns->failed)
		fprintf(f,
			"# That file has errors: this %s is kept from starting (see\n"
			"# ExecStartPre= below) until they are fixed and systemd is reloaded.\n",
			socket ? "socket" : "service");
	put_unit_dependencies(f, ns, netns_unit, vpnns_unit);

	if (socket) {
		fprintf(f,
			"# By default a socket unit is ordered before sockets.target, so before\n"
			"# basic.target and every ordinary service, %s\n"
			"# included: a cycle at boot. So the default dependencies of a socket\n"
			"# unit but that one (sockets.target still starts it, unordered):\n"
			"DefaultDependencies=no\n"
			"Requires=sysinit.target\n"
			"After=sysinit.target\n"
			"Before=shutdown.target\n"
			"Conflicts=shutdown.target\n"
			"\n[Socket]\n"
			"# Its sockets are made in the namespace; fails when that is missing.\n"
			"NetworkNamespacePath=%s\n",
			netns_unit, netns_path);
	} else {
		fprintf(f,
			"\n[Service]\n"
			"# Fails the service (225/NETWORK) when the namespace is missing; never\n"
			"# falls back to the host's network as PrivateNetwork= can.\n"
			"NetworkNamespacePath=%s\n"
			"# DNS: the namespace's resolv.conf wherever /etc/resolv.conf may point,\n"
			"# no host resolver modules, no path to the host's resolvers.\n"
			"TemporaryFileSystem=/run/systemd/resolve:ro\n"
			"BindReadOnlyPaths=%s/%s/resolv.conf:/run/systemd/resolve/stub-resolv.conf\n"
			"BindReadOnlyPaths=%s/%s/resolv.conf:/run/systemd/resolve/resolv.conf\n"
			"BindReadOnlyPaths=%s/%s/resolv.conf:/etc/resolv.conf\n"
			"BindReadOnlyPaths=%s/" NSSWITCH_FILE ":/etc/nsswitch.conf\n",
			netns_path, rundir, ns->name, rundir, ns->name, rundir, ns->name, outdir);
		for (size_t i = 0; i < n_confinement_resolver_paths; i++)
			fprintf(f, "InaccessiblePaths=-%s\n", confinement_resolver_paths[i]);
		r = put_confinement(f, x);
		if (r < 0)
			return r;
	}

	if (ns->hardening && !socket)
		fputs("\n# Hardening=yes: the defaults of vpn-confinement-generator(8). To change\n"
		      "# one, override it in a drop-in that sorts later, such as\n"
		      "# /etc/systemd/system/UNIT.d/60-override.conf; ProtectSystem=strict\n"
		      "# wants StateDirectory= or ReadWritePaths= for what the service writes.\n"
		      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"
		      "NoNewPrivileges=yes\n"
		      "PrivateTmp=yes\n"
		      "PrivateDevices=yes\n"
		      "ProtectSystem=strict\n"
		      "# strict alone left /run writable under systemd 252 (a runtime unit\n"
		      "# or udev rule written there runs as root outside the namespace).\n"
		      "ReadOnlyPaths=/run\n"
		      "ProtectHome=yes\n"
		      "ProtectKernelTunables=yes\n"
		      "ProtectKernelModules=yes\n"
		      "ProtectKernelLogs=yes\n"
		      "ProtectControlGroups=yes\n"
		      "ProtectHostname=yes\n"
		      "RestrictSUIDSGID=yes\n"
		      "RestrictRealtime=yes\n"
		      "LockPersonality=yes\n"
		      "SystemCallArchitectures=native\n",
		      f);

	if (ns->failed) {
		fputs("\n# '+': print the reason even when the namespace is gone.\n", f);
		r = put_error_command(f, x, "ExecStartPre=+", ns->name, ns->errors, ns->n_errors);
		if (r < 0)
			return r;
	}
	return text_finish(t);
}

static const char *const instance_templates[] = { "netns", "wg-up", "vpn-ns", "vpn-online" };

static int render_instance(const struct ctx *x, const struct ns_out *ns, const char *template_name,
			   struct text *t) {
	_cleanup_free_ char *source = NULL;
	FILE *f;
	int r;

	source = unit_escape_specifiers(ns->source_path);
	if (!source)
		return -ENOMEM;
	r = text_open(t, false);
	if (r < 0)
		return r;
	f = t->f;

	fputs(GENERATED_HEADER, f);
	fprintf(f, "# VPN namespace \"%s\", configured in %s.\n\n[Unit]\nSourcePath=%s\n", ns->name,
		source, source);
	/* The wg configs are read by netns-up (DNS servers) and wg-up; vpn-ns
	 * and vpn-online read none. */
	for (size_t i = 0; i < ns->n_wg_configs && !streq(template_name, "vpn-ns") && !streq(template_name, "vpn-online");
	     i++) {
		_cleanup_free_ char *wg = unit_escape_specifiers(ns->wg_configs[i].path);
		if (!wg)
			return -ENOMEM;
		fprintf(f, "RequiresMountsFor=%s\n", wg);
	}
	if (ns->failed) {
		fprintf(f,
			"\n[Service]\n"
			"# The file has errors: this unit fails with them until they are\n"
			"# fixed and systemd is reloaded (systemctl daemon-reload).\n"
			"ExecStart=\n");
		r = put_error_command(f, x, "ExecStart=", ns->name, ns->errors, ns->n_errors);
		if (r < 0)
			return r;
	}
	return text_finish(t);
}

/* vpn-portfwd@N's drop-in (PortForwarding=natpmp): where it may write, and
 * what its hook (root without capabilities, in the namespace) must not
 * reach: the WireGuard keys and wireguard-go's control sockets, the
 * service managers and the system bus, through which root would start a
 * process outside the namespace. */
static int render_portfwd(const struct ctx *x, const struct ns_out *ns, struct text *t) {
	_cleanup_free_ char *source = unit_escape_specifiers(ns->source_path);
	_cleanup_free_ char *rundir = unit_escape_specifiers(x->p->run_dir);
	FILE *f;
	int r;

	if (!source || !rundir)
		return -ENOMEM;
	r = text_open(t, false);
	if (r < 0)
		return r;
	f = t->f;
	fputs(GENERATED_HEADER, f);
	fprintf(f,
		"# VPN namespace \"%s\", configured in %s:\n"
		"# PortForwarding=natpmp.\n\n[Unit]\nSourcePath=%s\n\n[Service]\n"
		"# It publishes the port in its namespace's run directory; of the run\n"
		"# directory its hook can write nothing else (other namespaces' records).\n"
		"ReadOnlyPaths=%s\n"
		"ReadWritePaths=%s/%s\n"
		"# Out of its hook's reach (root without capabilities, in the namespace):\n"
		"# the WireGuard keys and wireguard-go's control sockets, the service\n"
		"# managers and the system bus.\n",
		ns->name, source, source, rundir, rundir, ns->name);
	if (put_hidden(f, x) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n_confinement_resolver_paths; i++)
		fprintf(f, "InaccessiblePaths=-%s\n", confinement_resolver_paths[i]);
	return text_finish(t);
}

/* The confinement drop-in of namespace ns's services (socket false) or
 * socket units, written once into SHARE_DIR; *target is the link to it
 * from a unit's ".d" directory. */
static int write_shared_confinement(struct ctx *x, const struct ns_out *ns, bool socket, char **target) {
	_cleanup_(text_release) struct text t = { 0 };
	_cleanup_free_ char *shared = NULL;
	const char *suffix = socket ? ".socket.conf" : ".conf";
	int r;

	r = render_confinement(x, ns, socket, &t);
	if (r < 0)
		return r;
	if (asprintf(&shared, "%s%s", ns->name, suffix) < 0 ||
	    asprintf(target, "../" SHARE_DIR "/%s%s", ns->name, suffix) < 0)
		return -ENOMEM;
	return write_file(x, SHARE_DIR, &x->share_dir_made, shared, t.buf, t.len);
}

/* PortForwarding=natpmp: vpn-portfwd@N, wanted by vpn-ns@N. */
static int write_portfwd(struct ctx *x, const struct ns_out *ns) {
	_cleanup_(text_release) struct text t = { 0 };
	_cleanup_free_ char *dir = NULL, *wants = NULL, *target = NULL;
	char unit[NS_UNIT_NAME_SIZE], vpnns[NS_UNIT_NAME_SIZE];
	int r;

	if (ns_unit_name("vpn-portfwd", ns->name, unit) < 0 || ns_unit_name("vpn-ns", ns->name, vpnns) < 0)
		return -EINVAL;
	if ((r = render_portfwd(x, ns, &t)) < 0)
		return r;
	if (asprintf(&dir, "%s.d", unit) < 0 || asprintf(&wants, "%s.wants", vpnns) < 0 ||
	    asprintf(&target, "%s/vpn-portfwd@.service", x->p->unit_dir) < 0)
		return -ENOMEM;
	if ((r = write_file(x, dir, NULL, CONFINEMENT_DROPIN, t.buf, t.len)) < 0)
		return r;
	return write_link(x, wants, NULL, unit, target);
}

/* ---- one namespace ------------------------------------------------------ */

static int write_namespace(struct ctx *x, const struct ns_out *ns) {
	char unit[NS_UNIT_NAME_SIZE];
	_cleanup_free_ char *wants_target = NULL;
	int r, first_error = 0;

	/* The loader validated these; be sure. */
	if (!ns_name_valid(ns->name))
		return refuse(x, "namespace name", ns->name);
	if (!unit_path_plain(ns->source_path))
		return refuse(x, "path", ns->source_path);
	for (size_t i = 0; i < ns->n_wg_configs; i++)
		if (ns->wg_configs[i].path[0] != '/' || strpbrk(ns->wg_configs[i].path, " \t\n\"'\\"))
			return refuse(x, "path", ns->wg_configs[i].path);

	/* The confined units first: if writing fails half-way, the
	 * confinement is what must be there. The drop-ins of a namespace's
	 * services are the same text, and those of its sockets: each written
	 * once, linked from each unit (a third of the system calls of a file
	 * each; generators hold up boot). */
	if (ns->n_units > 0) {
		_cleanup_free_ char *service_target = NULL, *socket_target = NULL;
		bool have_socket = false, have_service = false;

		for (size_t i = 0; i < ns->n_units; i++) {
			const char *u = ns->units[i].name;

			if (!unit_name_valid(u) || u[0] == '-' || !(unit_is_service(u) || unit_is_socket(u)))
				return refuse(x, "unit name", u);
			if (unit_is_socket(u))
				have_socket = true;
			else
				have_service = true;
		}
		if (have_service) {
			if (!x->share_dir_made) {
				r = write_nsswitch(x);
				if (r < 0)
					return r;
			}
			r = write_shared_confinement(x, ns, false, &service_target);
			if (r < 0)
				return r;
		}
		if (have_socket) {
			r = write_shared_confinement(x, ns, true, &socket_target);
			if (r < 0)
				return r;
		}
		for (size_t i = 0; i < ns->n_units; i++) {
			_cleanup_free_ char *dir = NULL;

			if (asprintf(&dir, "%s.d", ns->units[i].name) < 0)
				return -ENOMEM;
			r = write_link(x, dir, NULL, CONFINEMENT_DROPIN,
				       unit_is_socket(ns->units[i].name) ? socket_target : service_target);
			if (r == -ENOMEM)
				return r;
			if (r < 0) {
				/* Recorded; confine the others all the same. */
				first_error = first_error ?: r;
				continue;
			}
			x->stats->units++;
		}
	}

	for (size_t i = 0; i < ELEMENTSOF(instance_templates); i++) {
		_cleanup_(text_release) struct text t = { 0 };
		_cleanup_free_ char *dir = NULL;

		if (ns_unit_name(instance_templates[i], ns->name, unit) < 0)
			return -EINVAL;
		r = render_instance(x, ns, instance_templates[i], &t);
		if (r < 0)
			return r;
		if (asprintf(&dir, "%s.d", unit) < 0)
			return -ENOMEM;
		r = write_file(x, dir, NULL, CONFINEMENT_DROPIN, t.buf, t.len);
		if (r < 0)
			return r;
	}

	if (ns->port_forwarding && (r = write_portfwd(x, ns)) < 0)
		return r;

	/* Started at boot, also when broken: then it fails, loudly. */
	if (ns_unit_name("vpn-ns", ns->name, unit) < 0)
		return -EINVAL;
	if (asprintf(&wants_target, "%s/vpn-ns@.service", x->p->unit_dir) < 0)
		return -ENOMEM;
	r = write_link(x, "multi-user.target.wants", &x->wants_dir_made, unit, wants_target);
	if (r < 0)
		return r;

	x->stats->namespaces++;
	if (ns->failed)
		x->stats->namespaces_failed++;
	return first_error;
}

/* ---- errors that belong to no namespace --------------------------------- */

static int write_errors_unit(struct ctx *x, char *const *errors, size_t n_errors) {
	_cleanup_(text_release) struct text t = { 0 };
	_cleanup_free_ char *conf = NULL;
	int r;

	conf = unit_escape_specifiers(x->p->conf_dir);
	if (!conf)
		return -ENOMEM;
	r = text_open(&t, false);
	if (r < 0)
		return r;
	fputs(GENERATED_HEADER, t.f);
	fprintf(t.f,
		"# Reports errors in %s that belong to no namespace\n"
		"# (a file that cannot be read, a file name that is no namespace name).\n\n"
		"[Unit]\n"
		"Description=VPN confinement: configuration errors\n"
		"Documentation=man:vpn-confinement-generator(8) man:vpn-confinement.ini(5)\n"
		"SourcePath=%s\n\n"
		"[Service]\n"
		"Type=oneshot\n",
		conf, conf);
	r = put_error_command(t.f, x, "ExecStart=", "-", errors, n_errors);
	if (r < 0)
		return r;
	r = text_finish(&t);
	if (r < 0)
		return r;
	r = write_file(x, ".", NULL, ERRORS_UNIT, t.buf, t.len);
	if (r < 0)
		return r;
	r = write_link(x, "multi-user.target.wants", &x->wants_dir_made, ERRORS_UNIT,
		       "../" ERRORS_UNIT);
	if (r < 0)
		return r;
	x->stats->errors_unit = true;
	return 0;
}

/* ---- services of files with no namespace name ----------------------------- */

/* A namespace path that never exists: no namespace name starts with '-'. */
#define NETNS_NEVER NETNS_RUN_DIR "/-invalid-"

/* Whether unit u already has a drop-in of this run: a namespace confines
 * it (or the template it is an instance of), or an earlier file with no
 * namespace name lists it. */
static bool has_dropin(const struct ns_config_set *set, const struct config_file *upto, const char *u) {
	for (const struct config_file *f = set->files; f < set->files + set->n_files; f++) {
		if (!f->config || (!f->name[0] && f >= upto))
			continue;
		for (size_t j = 0; j < f->config->n_units; j++)
			if (f->name[0] ? unit_dropin_applies(f->config->units[j].name, u)
				       : streq(f->config->units[j].name, u))
				return true;
	}
	return false;
}

/* The drop-in of a service (socket false) or socket unit listed by a file
 * whose name is no namespace name: there is no namespace to confine it to,
 * so it must never start. */
static int render_blocked(const struct ctx *x, const struct config_file *file, bool socket, struct text *t) {
	_cleanup_free_ char *source = NULL;
	FILE *f;
	int r;

	/* Named only when it is plain: the file name is the broken part, and
	 * a newline in it would end the comment. */
	source = unit_escape_specifiers(unit_path_plain(file->path) ? file->path : x->p->conf_dir);
	if (!source)
		return -ENOMEM;
	r = text_open(t, false);
	if (r < 0)
		return r;
	f = t->f;
	fputs(GENERATED_HEADER, f);
	fprintf(f,
		"# Listed by %s%s, whose name is no\n"
		"# namespace name: there is no namespace to confine this %s to, so\n"
		"# it is kept from starting until that file is fixed and systemd is\n"
		"# reloaded. See vpn-confinement-generator(8).\n"
		"\n[%s]\n"
		"# '+': print the reason whatever else fails.\n",
		unit_path_plain(file->path) ? "" : "a file in ", source, socket ? "socket" : "service",
		socket ? "Socket" : "Service");
	r = put_error_command(f, x, "ExecStartPre=+", "-", file->errors, file->n_errors);
	if (r < 0)
		return r;
	fprintf(f,
		"# Should that ever be bypassed: a namespace that never exists, so the\n"
		"# %s instead of %s in the host's network.\n"
		"NetworkNamespacePath=" NETNS_NEVER "\n",
		socket ? "socket fails" : "service fails (225/NETWORK)", socket ? "listening" : "running");
	return text_finish(t);
}

/* Keeps every unit that file (with no namespace name) lists from starting,
 * unless this run confines it already. */
static int write_blocked(struct ctx *x, const struct ns_config_set *set, const struct config_file *file) {
	const struct ns_config *c = file->config;
	_cleanup_(text_release) struct text service = { 0 }, socket = { 0 };
	int r, first_error = 0;

	if (!c || c->n_units == 0)
		return 0;
	if ((r = render_blocked(x, file, false, &service)) < 0 || (r = render_blocked(x, file, true, &socket)) < 0)
		return r;
	for (size_t k = 0; k < c->n_units; k++) {
		const char *u = c->units[k].name;
		_cleanup_free_ char *dir = NULL;
		const struct text *t = unit_is_socket(u) ? &socket : &service;

		if (has_dropin(set, file, u))
			continue;
		if (!unit_name_valid(u) || u[0] == '-')
			r = refuse(x, "unit name", u);
		else if (asprintf(&dir, "%s.d", u) < 0)
			return -ENOMEM;
		else
			r = write_file(x, dir, NULL, CONFINEMENT_DROPIN, t->buf, t->len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			/* Recorded; block the others all the same. */
			first_error = first_error ?: r;
			continue;
		}
		x->stats->units_blocked++;
	}
	return first_error;
}

/* Every WireGuard configuration any file names: hidden from every confined
 * service (they hold the keys). A path not fit for a unit file is refused
 * (recorded; the rest is still written). */
static int collect_wg_files(struct ctx *x, const struct ns_config_set *set, int *write_error) {
	_cleanup_free_ const char **all = NULL;
	size_t n = 0;
	int r = confinement_wg_files(set, &all, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (all[i][0] != '/' || strpbrk(all[i], " \t\n\"'\\%")) {
			r = refuse(x, "path", all[i]);
			if (r == -ENOMEM)
				return r;
			*write_error = *write_error ?: r;
			continue;
		}
		if (ARRAY_APPEND(x->wg_files, x->n_wg_files, all[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The messages that belong to no namespace: the directory's, and those of
 * every file whose name is no namespace name (its units are blocked, its
 * reasons reported by ERRORS_UNIT). */
struct messages {
	char **v;
	size_t n;
};
static void messages_clear(struct messages *m) { strv_free(m->v, m->n); }

static int collect_global_errors(const struct ns_config_set *set, struct messages *out) {
	for (size_t i = 0; i <= set->n_files; i++) {
		char *const *errors = i < set->n_files ? set->files[i].errors : set->errors;
		size_t n_errors = i < set->n_files ? set->files[i].n_errors : set->n_errors;

		if (i < set->n_files && set->files[i].name[0])
			continue;
		for (size_t k = 0; k < n_errors; k++) {
			char *copy = strdup(errors[k]);
			if (!copy || ARRAY_APPEND(out->v, out->n, copy) < 0) {
				free(copy);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

int generate(const struct gen_paths *paths, int out_fd, struct diag *d, struct gen_stats *stats,
	     gen_written_fn written, void *userdata) {
	_cleanup_(ns_config_set_clear) struct ns_config_set set = { 0 };
	_cleanup_(messages_clear) struct messages global = { 0 };
	struct gen_stats dummy = { 0 };
	_cleanup_(ctx_done) struct ctx x = { .p = paths, .out_fd = out_fd, .d = d, .stats = stats ? stats : &dummy,
					     .written = written, .userdata = userdata };
	bool config_errors;
	int write_error = 0;
	struct timespec start, end;
	int r;

	*x.stats = (struct gen_stats){ 0 };
	if (!unit_path_plain(paths->helper) || !unit_path_plain(paths->unit_dir))
		return diag_error(d, NULL, 0, "built with an unusable helper or unit path");
	if (!unit_path_plain(paths->out_dir))
		return diag_error(d, NULL, 0, "output directory '%s' is not a plain absolute path",
				  paths->out_dir);
	if (!unit_path_plain(paths->conf_dir))
		return diag_error(d, NULL, 0,
				  "configuration directory '%s' is not a plain absolute path", paths->conf_dir);
	if (!unit_path_plain(paths->run_dir))
		return diag_error(d, NULL, 0, "runtime directory '%s' is not a plain absolute path",
				  paths->run_dir);

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = ns_config_load_dir(paths->conf_dir, &set, d);
	clock_gettime(CLOCK_MONOTONIC, &end);
	x.stats->load_ms = (double)(end.tv_sec - start.tv_sec) * 1e3 +
			   (double)(end.tv_nsec - start.tv_nsec) / 1e6;
	if (r < 0 && r != -EINVAL)
		return r;
	config_errors = r == -EINVAL;

	r = collect_wg_files(&x, &set, &write_error);
	if (r < 0)
		return r;

	/* Each file named like a namespace, valid, invalid (fail-closed) or
	 * unreadable (fail-closed, no unit known). A write error is recorded;
	 * the other namespaces' confinement is still written. */
	for (size_t i = 0; i < set.n_files; i++) {
		struct ns_out ns;

		if (!set.files[i].name[0])
			continue;
		ns = ns_out_of(&set.files[i]);
		r = write_namespace(&x, &ns);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && write_error == 0)
			write_error = r;
	}

	/* The units of files whose name is no namespace name: never to start. */
	for (size_t i = 0; i < set.n_files; i++) {
		if (set.files[i].name[0])
			continue;
		r = write_blocked(&x, &set, &set.files[i]);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && write_error == 0)
			write_error = r;
	}

	r = collect_global_errors(&set, &global);
	if (r < 0)
		return r;
	if (global.n > 0) {
		r = write_errors_unit(&x, global.v, global.n);
		if (r < 0 && write_error == 0)
			write_error = r;
	}
	if (write_error < 0)
		return write_error == -EINVAL ? -EIO : write_error;
	return config_errors || d->n_errors > 0 ? -EINVAL : 0;
}
