/* SPDX-License-Identifier: MIT */
#include "supervisor.h"

#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "namespace.h"
#include "netlink.h"
#include "netns.h"
#include "nft.h"
#include "rtnl.h"
#include "rundir.h"
#include "tunnel.h"
#include "util.h"

#define HOST_CHECK_INTERVAL_MS 5000

int supervise(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_record *rec, int sigfd) {
	_cleanup_close_ int nsfd = netns_open(n->ns), links = -1, nft = -1;
	const char *why = NULL;
	char whybuf[128];
	int ifindex = 0, r;

	if (nsfd < 0)
		return log_errno(nsfd, "%s: opening the namespace", n->ns);
	{
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		links = rtnl_link_monitor_open();
		ifindex = (int)if_nametoindex(n->wg);
	}
	if (links < 0)
		return log_errno(links, "%s: watching the namespace's links", n->ns);
	nft = nft_monitor_open(); /* in the host namespace */
	if (nft < 0)
		return log_errno(nft, "%s: watching the host's nftables", n->ns);
	if (ifindex == 0)
		why = "the interface disappeared";
	sd_notifyf(0, "READY=1\nSTATUS=tunnel %s up (%s)", n->wg, rec->has_socket ? "wireguard-go" : "kernel");

	while (!why) {
		struct pollfd pf[3] = { { .fd = sigfd, .events = POLLIN },
					{ .fd = links, .events = POLLIN },
					{ .fd = nft, .events = POLLIN } };
		struct signalfd_siginfo si;
		int k = poll(pf, 3, HOST_CHECK_INTERVAL_MS);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(errno, "%s: waiting", n->ns);
		}
		if (pf[0].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				sd_notify(0, "STOPPING=1\nSTATUS=taking the tunnel down");
				log_msg("%s: stopping: taking the tunnel down", n->ns);
				return tunnel_teardown(n, ns, true);
			}
			if (si.ssi_signo == SIGCHLD && rec->pid > 0) {
				int status;
				if (waitpid(rec->pid, &status, WNOHANG) == rec->pid) {
					snprintf(whybuf, sizeof(whybuf), "wireguard-go (pid %d) exited with status %d",
						 (int)rec->pid,
						 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
					why = whybuf;
				}
			}
		}
		if (!why && pf[1].revents && rtnl_link_monitor_read(links, ifindex) == 1)
			why = "the interface was deleted";
		/* An nftables change on the host, or the periodic look. */
		if (!why && (k == 0 || (pf[2].revents && nl_monitor_read(nft, NULL, NULL) != 0)))
			namespace_host_side_ensure(n, ns);
	}
	if (!rundir_exists(n->ns, RUN_WG) || rundir_exists(n->ns, RUN_WG_STOPPING)) {
		/* wg-down (ExecStop=) is taking it down. */
		log_msg("%s: the tunnel was taken down", n->ns);
		return 0;
	}
	sd_notifyf(0, "STATUS=tunnel died: %s", why);
	log_msg("%s: the tunnel died: %s; taking it down (the kill switch holds)", n->ns, why);
	tunnel_teardown(n, ns, true);
	return -ECONNABORTED;
}
