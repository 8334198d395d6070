/* SPDX-License-Identifier: MIT */
#include "confinement.h"

#include <linux/capability.h>

#include "config.h"
#include "util.h"

/* Reconfiguring the namespace or its tunnel, raw packets, mounts and
 * setns() (NET_ADMIN, NET_RAW, SYS_ADMIN); ptrace, pidfd_getfd() and
 * /proc/PID/mem of wireguard-go and the tunnel's supervisor, whose sockets
 * are in the host's network (SYS_PTRACE); kernel code and memory
 * (SYS_MODULE, SYS_RAWIO, BPF, PERFMON, SYS_BOOT); files opened by handle
 * past the hidden paths (DAC_READ_SEARCH). */
const struct confinement_cap confinement_caps[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },   { CAP_NET_RAW, "CAP_NET_RAW" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },   { CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	{ CAP_SYS_MODULE, "CAP_SYS_MODULE" }, { CAP_SYS_RAWIO, "CAP_SYS_RAWIO" },
	{ CAP_BPF, "CAP_BPF" },               { CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_SYS_BOOT, "CAP_SYS_BOOT" },     { CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
};
const size_t n_confinement_caps = ELEMENTSOF(confinement_caps);

const char *const confinement_resolver_paths[] = { "/run/nscd", "/run/dbus", "/run/avahi-daemon" };
const size_t n_confinement_resolver_paths = ELEMENTSOF(confinement_resolver_paths);

const char *const confinement_manager_paths[] = { "/run/systemd/private", "/run/user" };
const size_t n_confinement_manager_paths = ELEMENTSOF(confinement_manager_paths);

const char *const confinement_empty_dirs[] = { "/run/wireguard", "/var/run/wireguard", "/etc/netns" };
const size_t n_confinement_empty_dirs = ELEMENTSOF(confinement_empty_dirs);

int confinement_wg_files(const struct ns_config_set *set, const char ***out, size_t *n) {
	_cleanup_free_ const char **paths = NULL;
	size_t count = 0;

	for (size_t i = 0; i < set->n_files; i++) {
		const struct ns_config *c = set->files[i].config;

		for (size_t k = 0; c && k < c->n_wg_configs; k++) {
			const char *path = c->wg_configs[k].path;
			bool dup = false;

			for (size_t j = 0; j < count; j++)
				dup = dup || streq(paths[j], path);
			if (!dup && ARRAY_APPEND(paths, count, path) < 0)
				return -ENOMEM;
		}
	}
	*out = TAKE_PTR(paths);
	*n = count;
	return 0;
}

/* None of resolve, mdns*, myhostname, mymachines, wins, which could ask a
 * resolver outside the namespace. User and group lookups keep "systemd"
 * for DynamicUser=. */
const char confinement_nsswitch[] =
	"# The name service switch of services confined by vpn-confinement.\n"
	"passwd:    files systemd\n"
	"group:     files systemd\n"
	"shadow:    files\n"
	"gshadow:   files\n"
	"hosts:     files dns\n"
	"networks:  files\n"
	"protocols: files\n"
	"services:  files\n"
	"ethers:    files\n"
	"rpc:       files\n"
	"netgroup:  files\n";
