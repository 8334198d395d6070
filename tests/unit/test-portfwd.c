/* SPDX-License-Identifier: MIT */
/* Port forwarding's pieces that need no network: the record for status
 * (what port-forward writes is read back; anything else is refused), the
 * tunnel's default gateway from the namespace's resolv.conf, the set
 * update, and the hook (a real child: its arguments and environment, its
 * output in the log, its exit status, the timeout, retries, a quiet
 * re-telling; as root its capabilities are all gone, otherwise it does not
 * run at all). */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cmdline.h"
#include "hook.h"
#include "portfwd.h"
#include "ruleset.h"
#include "rundir.h"
#include "test.h"
#include "util.h"

static char dir[] = "/tmp/test-portfwd-XXXXXX";

static int write_run(const char *file, const char *text) { return rundir_write("ut", file, text); }

static void test_record(void) {
	static const char *const bad[] = {
		"pid=5\npidstart=9\nkind=assigns\nhook=ok\nbogus=1\n",
		"pid=5\npidstart=9\nkind=nope\nhook=ok\n",
		"pid=5\npidstart=9\nkind=assigns\ngateway=2001:db8::1\nhook=ok\n",
		"pid=5\npidstart=9\nkind=assigns\nport=70000\ntcp=70000\nudp=0\nhook=ok\n",
		"pid=5\npidstart=9\nkind=assigns\nport=40000\ntcp=40001\nudp=40002\nhook=ok\n",
		"pidstart=9\nkind=assigns\nhook=ok\n",
		"pid=5\npidstart=9\nkind=assigns\nhook=running hard\n",
		"pid=5\npidstart=9\nerror=-99999\nhook=ok\n",
		"pid=5\npidstart=9\nno equals sign\n",
	};
	struct portfwd_record rec;
	char gw[IPNET_STRLEN];

	CHECK(portfwd_record_load("ut", &rec) == -ENOENT, "no record");
	CHECK(write_run(RUN_PORTFWD, "pid=5\npidstart=9\ngateway=10.2.0.1\nkind=assigns\nport=41234\ntcp=41234\n"
				     "udp=41234\nsince=100\nrenewed=145\nlifetime=60\nerror=-110\nerror_since=150\n"
				     "hook=failed\nhook_port=41234\nhook_status=7\n") == 0,
	      "written");
	CHECK(portfwd_record_load("ut", &rec) == 0, "what port-forward writes is read");
	CHECK(rec.pid == 5 && rec.pid_start == 9 && rec.kind == PORTMAP_ASSIGNS && rec.port == 41234 &&
		      rec.tcp == 41234 && rec.udp == 41234 && rec.since == 100 && rec.renewed == 145 &&
		      rec.lifetime == 60 && rec.error == -ETIMEDOUT && rec.error_since == 150 &&
		      rec.hook == HOOK_FAILED && rec.hook_port == 41234 && rec.hook_status == 7,
	      "every field");
	CHECK_STREQ(ipaddr_str(&rec.gateway, gw), "10.2.0.1", "the gateway");
	CHECK(!portfwd_record_running(&rec), "pid 5 started at tick 9 is no port-forward of ours");
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		write_run(RUN_PORTFWD, bad[i]);
		CHECK(portfwd_record_load("ut", &rec) == -EBADMSG && rec.pid == 0 && rec.port == 0,
		      "refused whole: %s", bad[i]);
	}
	rundir_remove("ut", RUN_PORTFWD);
}

static void test_default_gateway(void) {
	struct ipaddr a;
	char buf[IPNET_STRLEN];

	CHECK(portfwd_default_gateway("ut", &a) == -ENOENT, "no resolv.conf");
	write_run(RUN_RESOLV, "# generated\nnameserver 2001:db8::1\nnameserver 10.2.0.1\nnameserver 10.2.0.2\n");
	CHECK(portfwd_default_gateway("ut", &a) == 0 && streq(ipaddr_str(&a, buf), "10.2.0.1"),
	      "the first IPv4 nameserver");
	write_run(RUN_RESOLV, "nameserver 2001:db8::1\nnameserver bogus\nsearch 10.2.0.1\n");
	CHECK(portfwd_default_gateway("ut", &a) == -ENOENT, "none: no IPv4 nameserver line");
	write_run(RUN_RESOLV, "");
	CHECK(portfwd_default_gateway("ut", &a) == -ENOENT, "none: a tunnel that is down");
}

static void test_set_update(void) {
	_cleanup_free_ char *both = NULL, *tcp = NULL, *none = NULL;

	CHECK(ruleset_forwarded_text(51413, 51413, &both) == 0 && ruleset_forwarded_text(40000, 0, &tcp) == 0 &&
		      ruleset_forwarded_text(0, 0, &none) == 0,
	      "rendered");
	CHECK_STREQ(both,
		    "flush set inet vpn-confinement forwarded_tcp\n"
		    "add element inet vpn-confinement forwarded_tcp { 51413 }\n"
		    "flush set inet vpn-confinement forwarded_udp\n"
		    "add element inet vpn-confinement forwarded_udp { 51413 }\n",
		    "both");
	CHECK_STREQ(tcp,
		    "flush set inet vpn-confinement forwarded_tcp\n"
		    "add element inet vpn-confinement forwarded_tcp { 40000 }\n"
		    "flush set inet vpn-confinement forwarded_udp\n",
		    "tcp only");
	CHECK_STREQ(none, "flush set inet vpn-confinement forwarded_tcp\nflush set inet vpn-confinement forwarded_udp\n",
		    "closed");
}

/* Runs the hook's child to its end as port-forward's loop would. */
static void run_to_end(struct hook *h) {
	int64_t start = monotonic_ms();

	while (h->pid > 0 && monotonic_ms() - start < 10000) {
		hook_read(h);
		hook_tick(h, monotonic_ms());
		hook_reap(h, monotonic_ms());
		usleep(5000);
	}
}

/* stderr (log.h's messages) into a file while fn runs; its text. */
static char *logged(void (*fn)(struct hook *), struct hook *h) {
	char path[] = "/tmp/test-portfwd-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = NULL;
	size_t len;

	if (fd < 0 || saved < 0)
		abort();
	fflush(stderr);
	dup2(fd, 2);
	fn(h);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	read_file_capped(path, 1 << 20, &text, &len);
	unlink(path);
	if (!text && !(text = strdup("")))
		abort();
	return text;
}

static void start_and_end(struct hook *h) {
	hook_tick(h, monotonic_ms());
	run_to_end(h);
}

static void test_hook(void) {
	bool root = geteuid() == 0;
	struct cmdline c, slow;
	char why[CMDLINE_WHY_MAX];
	struct hook h;
	int64_t now = monotonic_ms();
	char *log;

	CHECK(cmdline_split("/bin/sh -c 'echo \"p=$$2 e=$$VPN_CONFINEMENT_FORWARDED_PORT n=$$VPN_CONFINEMENT_NAMESPACE\";"
			    " grep CapBnd /proc/self/status; exit $$1' hook 3",
			    &c, why) == 0,
	      "%s", why);
	hook_init(&h, &c, "ut", 5000);
	hook_request(&h, 0, now);
	CHECK(!h.owed && hook_next_ms(&h) == INT64_MAX, "port 0: nothing owed");
	hook_request(&h, 4242, now);
	CHECK(h.owed && h.state == HOOK_PENDING && hook_next_ms(&h) == now, "a run owed now");
	log = logged(start_and_end, &h);
	if (root) {
		CHECK(strstr(log, "vpn-confinement: ut: hook: p=4242 e=4242 n=ut\n"),
		      "the port last and in the environment: %s", log);
		CHECK(strstr(log, "hook: CapBnd:\t0000000000000000\n"), "no capability left: %s", log);
		CHECK(h.last_status == 3 && h.state == HOOK_FAILED, "its exit status (%d)", h.last_status);
		CHECK(strstr(log, "hook: failed with port 4242 (exit status 3)"), "logged: %s", log);
	} else {
		/* Without CAP_SETPCAP the capabilities cannot be dropped: it
		 * must not run at all. */
		CHECK(h.last_status == 126 && h.state == HOOK_FAILED, "not run (%d)", h.last_status);
		CHECK(strstr(log, "its capabilities could not be dropped") && !strstr(log, "p=4242"),
		      "said so, and never ran: %s", log);
	}
	free(log);
	CHECK(h.owed && h.due_ms >= monotonic_ms() + 1000 && h.due_ms <= monotonic_ms() + 2000,
	      "retried in 2 s");
	CHECK(h.failures == 1, "one failure");
	cmdline_clear(&c);

	if (!root)
		return;
	/* Succeeds: told; a re-telling is quiet. */
	CHECK(cmdline_split("/bin/sh -c 'echo told $$1' hook", &c, why) == 0, "%s", why);
	h.cmd = &c;
	hook_request(&h, 5151, monotonic_ms());
	CHECK(h.failures == 0 && h.due_ms <= monotonic_ms(), "a new request is due now, the back-off forgotten");
	log = logged(start_and_end, &h);
	CHECK(h.state == HOOK_OK && h.last_port == 5151, "ok");
	CHECK(strstr(log, "hook: running /bin/sh with port 5151") && strstr(log, "hook: told 5151") &&
		      strstr(log, "hook: told the client port 5151 (exit status 0)"),
	      "its output and status: %s", log);
	free(log);
	hook_retell(&h, 5151, monotonic_ms());
	CHECK(h.owed && h.owed_quiet, "a re-telling owed");
	log = logged(start_and_end, &h);
	CHECK(h.state == HOOK_OK && log[0] == '\0', "quiet when it succeeds: '%s'", log);
	free(log);
	hook_retell(&h, 5152, monotonic_ms());
	CHECK(!h.owed, "no re-telling of another port (that is a request)");
	cmdline_clear(&c);

	/* The timeout: its group gets SIGTERM. */
	CHECK(cmdline_split("/bin/sh -c 'sleep 30' hook", &slow, why) == 0, "%s", why);
	hook_init(&h, &slow, "ut", 200);
	hook_request(&h, 6000, monotonic_ms());
	log = logged(start_and_end, &h);
	CHECK(h.last_status == -1 && h.state == HOOK_FAILED, "timed out (%d)", h.last_status);
	CHECK(strstr(log, "hook: still running after 0 s: stopping it") &&
		      strstr(log, "hook: timed out with port 6000"),
	      "%s", log);
	free(log);
	hook_stop(&h);
	cmdline_clear(&slow);
}

int main(void) {
	if (!mkdtemp(dir))
		return 1;
	setenv("VPN_CONFINEMENT_RUNDIR", dir, 1);
	test_record();
	test_default_gateway();
	test_set_update();
	test_hook();
	rundir_remove("ut", RUN_RESOLV);
	rundir_rmdir("ut");
	rmdir(dir);
	return test_done();
}
