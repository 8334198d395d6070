/* SPDX-License-Identifier: MIT */
/* Unit tests of the runtime's building blocks that need no root: the process
 * runner, the wiped stream, the run directory, the wg run file, rtnetlink
 * lookups in the test's own namespace. */
#include <limits.h>
#include <net/if.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "hostfwd.h"
#include "log.h"
#include "netns.h"
#include "rtnl.h"
#include "proc.h"
#include "rundir.h"
#include "text.h"
#include "tunnel.h"
#include "test.h"
#include "util.h"

/* The absolute path of NAME in a directory of $PATH, in buf. proc_run()
 * takes absolute paths only, and the tools are not always in /bin or
 * /usr/bin: a Nix build sandbox has only /bin/sh there. */
static char *path_lookup(const char *name, char *buf, size_t size) {
	const char *p = getenv("PATH");

	while (p && *p) {
		size_t len = strcspn(p, ":");

		if (len > 0 && (size_t)snprintf(buf, size, "%.*s/%s", (int)len, p, name) < size && buf[0] == '/' &&
		    access(buf, X_OK) == 0)
			return buf;
		p += len + (p[len] == ':');
	}
	snprintf(buf, size, "/%s-not-found-in-PATH", name);
	return buf;
}

static void test_proc(void) {
	struct text out = { 0 }, err = { 0 };
	struct proc_opts o = PROC_OPTS_INIT;
	char echo_path[PATH_MAX], cat_path[PATH_MAX], env_path[PATH_MAX];
	char *echo[] = { path_lookup("echo", echo_path, sizeof(echo_path)), "hello", "world", NULL };
	char *cat[] = { path_lookup("cat", cat_path, sizeof(cat_path)), NULL };
	/* /bin/sh is the one program a Nix build sandbox has at a fixed path. */
	char *sh_err[] = { "/bin/sh", "-c", "echo oops >&2; exit 7", NULL };
	char *env[] = { path_lookup("env", env_path, sizeof(env_path)), NULL };
	char *missing[] = { "/nonexistent/program", NULL };
	char *big;
	size_t big_len = 3 * 1024 * 1024 + 17;
	int r;

	o.out = &out;
	r = proc_run(echo, &o);
	CHECK(r == 0, "%s exit %d", echo[0], r);
	CHECK_STREQ(out.buf, "hello world\n", "echo output");
	text_release(&out);
	CHECK(out.buf == NULL && out.len == 0, "released");

	/* stdin fed from a buffer larger than a pipe, read back concurrently. */
	big = malloc(big_len);
	CHECK(big != NULL, "malloc");
	if (!big)
		return;
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.stdin_buf = big;
	o.stdin_len = big_len;
	o.out = &out;
	r = proc_run(cat, &o);
	CHECK(r == 0, "%s exit %d", cat[0], r);
	CHECK(out.len == big_len && out.buf && memcmp(out.buf, big, big_len) == 0, "cat echoed %zu of %zu bytes",
	      out.len, big_len);
	text_release(&out);
	free(big);

	/* Empty stdin buffer: EOF at once. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.stdin_buf = "";
	o.stdin_len = 0;
	o.out = &out;
	r = proc_run(cat, &o);
	CHECK(r == 0 && out.len == 0, "cat of nothing: %d, %zu bytes", r, out.len);
	text_release(&out);

	/* Exit status and stderr capture. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.err = &err;
	r = proc_run(sh_err, &o);
	CHECK(r == 7, "exit status %d", r);
	CHECK_STREQ(err.buf, "oops\n", "stderr captured");
	text_release(&err);

	/* The child's environment is the fixed one, not ours. */
	setenv("VPN_CONFINEMENT_TEST_SECRET", "leak", 1);
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.out = &out;
	r = proc_run(env, &o);
	CHECK(r == 0 && out.buf && !strstr(out.buf, "VPN_CONFINEMENT_TEST_SECRET") && strstr(out.buf, "LC_ALL=C"),
	      "fixed environment: %s", out.buf ? out.buf : "(null)");
	text_release(&out);
	unsetenv("VPN_CONFINEMENT_TEST_SECRET");

	/* A program that cannot be run: 127 from the child. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.err = &err;
	r = proc_run(missing, &o);
	CHECK(r == 127, "missing program: %d", r);
	text_release(&err);
}

static void test_text(void) {
	struct text t = { 0 };
	size_t n = 0;

	CHECK(text_open(&t, true) == 0, "open a secret text");
	for (int i = 0; i < 5000; i++)
		n += (size_t)fprintf(t.f, "line %d\n", i);
	CHECK(text_finish(&t) == 0, "finish");
	CHECK(t.len == n && t.buf && strncmp(t.buf, "line 0\nline 1\n", 14) == 0 && t.buf[t.len] == '\0',
	      "text holds %zu of %zu bytes", t.len, n);
	text_release(&t);
	CHECK(t.buf == NULL && t.len == 0 && t.f == NULL, "released");
	CHECK(text_append(&t, "abc", 3, 4) == 0 && text_append(&t, "de", 2, 4) == -EFBIG && t.len == 3,
	      "a capped append refuses what does not fit");
	text_release(&t);
}

static void test_rundir(void) {
	char dir[] = "/tmp/vc-unit-XXXXXX";
	_cleanup_free_ char *text = NULL, *path = NULL;
	struct tunnel_record st;
	struct stat sb;
	int r;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	CHECK(chmod(dir, 0755) == 0, "chmod 0755 (as an older version left it)");
	setenv("VPN_CONFINEMENT_RUNDIR", dir, 1);

	CHECK(!rundir_exists("abc", "netns"), "absent");
	CHECK(rundir_read("abc", "netns", &text) == -ENOENT, "read absent");
	CHECK(rundir_write("abc", "netns", "a=1\nbb=two\n") == 0, "write");
	CHECK(rundir_exists("abc", "netns"), "present");
	CHECK(rundir_read("abc", "netns", &text) == 0, "read");
	CHECK_STREQ(text, "a=1\nbb=two\n", "content");
	CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700, "$RUNDIR tightened to 0700: %o", sb.st_mode & 0777);
	CHECK(rundir_path("abc", "netns", &path) == 0, "path");
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "file 0600: %o", sb.st_mode & 0777);
	free(path);
	path = NULL;

	/* Names that could leave the run directory are refused. */
	CHECK(rundir_path("abc", "../x", &path) == -EINVAL, "file with /");
	CHECK(rundir_path("../x", "netns", &path) == -EINVAL, "bad namespace name");
	CHECK(rundir_write("ABC", "netns", "") == -EINVAL, "uppercase name");
	CHECK(rundir_write("abc", "..", "") == -EINVAL, "dot-dot");

	/* Links planted in the run directory are never followed. */
	{
		char target[sizeof(dir) + 16], link[sizeof(dir) + 16], nsdir[sizeof(dir) + 16];
		_cleanup_free_ char *t = NULL;

		snprintf(target, sizeof(target), "%s/target", dir);
		snprintf(link, sizeof(link), "%s/abc/wg", dir);
		CHECK(symlink(target, link) == 0, "plant a link as abc/wg");
		CHECK(rundir_read("abc", "wg", &t) == -EPERM, "a link is not read");
		CHECK(rundir_write_inplace("abc", "wg", "x") == -EPERM, "nor written through");
		CHECK(access(target, F_OK) < 0, "the target was not created");
		CHECK(rundir_write("abc", "wg", "ok\n") == 0, "an atomic write replaces the link");
		CHECK(lstat(link, &sb) == 0 && S_ISREG(sb.st_mode), "with a file");
		CHECK(rundir_remove("abc", "wg") == 0, "remove");
		snprintf(nsdir, sizeof(nsdir), "%s/zz", dir);
		CHECK(symlink("/tmp", nsdir) == 0, "plant a link as the directory of namespace zz");
		CHECK(rundir_write("zz", "netns", "") == -ELOOP, "a directory link is not followed");
		CHECK(rundir_exists("zz", "netns") == false, "nor looked into");
		CHECK(unlink(nsdir) == 0, "remove the link");
	}

	/* The wg run file: exactly what wg-up writes, for this namespace. */
	st = (struct tunnel_record){ .implementation = "userspace", .has_socket = true, .pid = 42, .pid_start = 7,
				.started = 100, .epoch = UINT64_MAX - 1 };
	snprintf(st.tmpname, sizeof(st.tmpname), "vc-abc-1f2e");
	CHECK(tunnel_record_save("abc", &st) == 0, "save wg");
	st = (struct tunnel_record){ 0 };
	r = tunnel_record_load("abc", &st);
	CHECK(r == 0 && st.pid == 42 && st.pid_start == 7 && st.has_socket && streq(st.tmpname, "vc-abc-1f2e") &&
		      st.implementation && streq(st.implementation, "userspace") && st.started == 100 &&
		      st.epoch == UINT64_MAX - 1,
	      "wg state round trip: %d", r);
	/* A new epoch is always greater, even past the clock. */
	tunnel_record_new_epoch(&st);
	CHECK(st.epoch == UINT64_MAX, "an epoch ahead of the clock still grows: %llu", (unsigned long long)st.epoch);
	st.epoch = 5;
	tunnel_record_new_epoch(&st);
	CHECK(st.epoch > 1000000000ull * 1700000000ull, "a new epoch is the clock's nanoseconds");
	CHECK(!tunnel_wgo_is_ours(&st), "pid 42 started at tick 7 is no wireguard-go of ours");
	{
		static const char *const bad[] = {
			"implementation=userspace\nsocket=../../etc/x\npid=42\n",
			"implementation=userspace\ntmpname=vc-xyz-1f2e\nsocket=vc-xyz-1f2e\npid=42\npidstart=1\n",
			"implementation=kernel\ntmpname=vc-abc-0000\npid=-3\n",
			"implementation=kernel\ntmpname=vc-abc-0000\npid=42\npidstart=5\n",
			"implementation=evil\ntmpname=vc-abc-0000\n",
			"implementation=kernel\ntmpname=vc-abc-0000\nextra=1\n",
			"implementation=kernel\ntmpname=vc-abc-0000\nepoch=0\n",
			"implementation=kernel\ntmpname=vc-abc-0000\nepoch=x\n",
			"implementation=kernel\ntmpname=vc-abc-0000\nsocket=vc-abc-0001\n",
			"implementation=kernel\n",
			"tmpname=vc-abc-0000\n",
		};
		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			CHECK(rundir_write("abc", RUN_WG, bad[i]) == 0, "write");
			CHECK(tunnel_record_load("abc", &st) == -EBADMSG && st.pid == 0 && !st.implementation,
			      "refused: %s", bad[i]);
		}
	}

	/* In place: the same inode, the new content, no trailing old bytes. */
	{
		_cleanup_free_ char *p = NULL, *t = NULL;
		struct stat a, b;

		CHECK(rundir_write_inplace("abc", "resolv.conf", "nameserver 10.0.0.1\nnameserver 10.0.0.2\n") == 0,
		      "inplace 1");
		CHECK(rundir_path("abc", "resolv.conf", &p) == 0 && stat(p, &a) == 0, "stat 1");
		CHECK(rundir_write_inplace("abc", "resolv.conf", "# down\n") == 0, "inplace 2");
		CHECK(stat(p, &b) == 0 && a.st_ino == b.st_ino && (b.st_mode & 0777) == 0644, "same inode, 0644");
		CHECK(rundir_read("abc", "resolv.conf", &t) == 0, "read back");
		CHECK_STREQ(t, "# down\n", "truncated to the new content");
		CHECK(rundir_remove("abc", "resolv.conf") == 0, "remove");
	}

	/* Host-sysctl claims: only the keys and values the helper writes. */
	{
		_cleanup_free_ struct host_claim *c = NULL;
		size_t n = 0, bad = 0;
		char key[128];

		CHECK(rundir_write("abc", RUN_HOST_SYSCTL,
				   "net/ipv4/conf/eth0/forwarding\t0\n"
				   "net/ipv6/conf/lan-1.2/force_forwarding\t1\n"
				   "kernel/core_pattern\t|/tmp/x %p\n"
				   "net/ipv4/conf/all/forwarding\t0\n"
				   "net/ipv4/conf/default/forwarding\t0\n"
				   "net/ipv4/conf/eth0/forwarding\t2\n"
				   "net/ipv4/conf/../../../kernel/forwarding\t0\n"
				   "net/ipv4/conf/eth0/rp_filter\t0\n"
				   "net/ipv4/conf/eth0/forwarding\t0 \n"
				   "net/ipv4/conf/toolongtoolongname/forwarding\t0\n") == 0,
		      "write claims");
		CHECK(hostfwd_claims_load("abc", &c, &n, &bad) == 0, "load claims");
		CHECK(n == 2 && bad == 8, "2 claims kept, 8 lines refused (%zu, %zu)", n, bad);
		CHECK(n == 2 && c[0].family == AF_INET && streq(c[0].ifname, "eth0") && !c[0].original &&
			      c[1].family == AF_INET6 && streq(c[1].ifname, "lan-1.2") && c[1].original,
		      "claims typed");
		CHECK(n == 2 && hostfwd_claim_key(&c[1], key, sizeof(key)) == 0, "key");
		CHECK_STREQ(key, "net/ipv6/conf/lan-1.2/force_forwarding", "key text");
		CHECK(rundir_remove("abc", RUN_HOST_SYSCTL) == 0, "remove claims");
	}
	CHECK(!hostfwd_ifname_ok("all") && !hostfwd_ifname_ok("default") && !hostfwd_ifname_ok("lo") &&
		      !hostfwd_ifname_ok("..") && !hostfwd_ifname_ok("a/b") && hostfwd_ifname_ok("enp3s0.10"),
	      "interface names that may be claimed");

	CHECK(rundir_remove("abc", RUN_WG) == 0 && rundir_remove("abc", RUN_WG) == 0, "remove twice");
	CHECK(rundir_rmdir("abc") == 0 && rundir_exists("abc", "netns"), "rmdir keeps a non-empty dir");
	CHECK(rundir_remove("abc", "netns") == 0 && rundir_rmdir("abc") == 0, "remove all");
	CHECK(access(dir, F_OK) == 0 && rmdir(dir) == 0, "only our files were there");
	unsetenv("VPN_CONFINEMENT_RUNDIR");
}

static void test_tmpname(void) {
	CHECK(tunnel_tmpname_valid("abc", "vc-abc-1f2e"), "valid");
	CHECK(tunnel_tmpname_valid("abcdefg", "vc-abcdefg-ffff"), "15 chars");
	CHECK(!tunnel_tmpname_valid("abc", "vc-abd-1f2e"), "another namespace's");
	CHECK(!tunnel_tmpname_valid("abc", "vc-abc-1f2"), "three digits");
	CHECK(!tunnel_tmpname_valid("abc", "vc-abc-1F2E"), "uppercase");
	CHECK(!tunnel_tmpname_valid("abc", "wg0"), "other prefix");
	CHECK(!tunnel_tmpname_valid("abc", "vc-abc-1/2e"), "slash");
	CHECK(!tunnel_tmpname_valid("abc", "vc-abc-1.2e"), "dot");
}

static void test_proc_facts(void) {
	uint64_t start = 0, again = 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	CHECK(proc_start_time(getpid(), &start) == 0 && start > 0, "own start time");
	CHECK(proc_start_time(getpid(), &again) == 0 && again == start, "stable");
	CHECK(proc_start_time(999999999, &start) == -ESRCH, "no such process");
	CHECK(n > 0, "readlink self");
	if (n > 0) {
		self[n] = '\0';
		CHECK(proc_exe_is(getpid(), self), "own executable");
	}
	CHECK(!proc_exe_is(getpid(), "/bin/sh"), "not another executable");
	CHECK(!proc_has_arg(getpid(), "--no-such-argument"), "no such argument");
}

/* The bug of issue 12: wg-up reported a failed step with a positive errno
 * (step_fail(..., errno) after if_nametoindex), returned it, and its caller,
 * which tests for < 0, took it for success: no undo, exit 0. Whatever sign
 * a step's error is handed in, what comes back must be a failure. */
static void test_step_errors(void) {
	int r, first = 0;

	r = log_errno(ENODEV, "abc: finding the new interface");
	CHECK(r < 0, "a positive errno still fails the step: %d", r);
	r = log_errno(-ENODEV, "abc: finding the new interface");
	CHECK(r == -ENODEV, "a negative one is kept: %d", r);
	r = log_errno(0, "abc: a step that failed without an errno");
	CHECK(r < 0, "no errno at all is a failure too: %d", r);
	/* Keep going, remember the first error. */
	CHECK(RET_GATHER(first, 0) == 0 && first == 0, "success gathers nothing");
	CHECK(RET_GATHER(first, -EPERM) == -EPERM && first == -EPERM, "the first error");
	CHECK(RET_GATHER(first, -ENOENT) == -ENOENT && first == -EPERM, "kept over a later one");
}

static void test_names(void) {
	struct ns_names n;

	CHECK(ns_names_init(&n, "tr") == 0, "init");
	CHECK_STREQ(n.wg, "tr0", "wg");
	CHECK_STREQ(n.bridge, "tr-br", "bridge");
	CHECK_STREQ(n.veth_host, "veth-tr-br", "veth host");
	CHECK_STREQ(n.veth_ns, "veth-tr", "veth ns");
	CHECK_STREQ(n.netns_path, "/run/netns/tr", "netns path");
	CHECK_STREQ(n.host_table, "vpn-confinement-tr", "host table");
	CHECK(ns_names_init(&n, "toolong8") < 0, "too long");
}

int main(void) {
	test_proc();
	test_text();
	test_rundir();
	test_tmpname();
	test_proc_facts();
	test_step_errors();
	test_names();
	return test_done();
}
