/* SPDX-License-Identifier: MIT */
/* Unit tests of the runtime's building blocks that need no root: the process
 * runner, the wiped stream, the run directory, the wg run file, rtnetlink
 * lookups in the test's own namespace. */
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "netns.h"
#include "nl.h"
#include "proc.h"
#include "runtime.h"
#include "test.h"
#include "util.h"
#include "wgrt.h"

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
	struct proc_output out = { 0 }, err = { 0 };
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
	CHECK_STREQ(out.data, "hello world\n", "echo output");
	proc_output_release(&out);
	CHECK(out.data == NULL && out.len == 0, "released");

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
	CHECK(out.len == big_len && out.data && memcmp(out.data, big, big_len) == 0, "cat echoed %zu of %zu bytes",
	      out.len, big_len);
	proc_output_release(&out);
	free(big);

	/* Empty stdin buffer: EOF at once. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.stdin_buf = "";
	o.stdin_len = 0;
	o.out = &out;
	r = proc_run(cat, &o);
	CHECK(r == 0 && out.len == 0, "cat of nothing: %d, %zu bytes", r, out.len);
	proc_output_release(&out);

	/* Exit status and stderr capture. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.err = &err;
	r = proc_run(sh_err, &o);
	CHECK(r == 7, "exit status %d", r);
	CHECK_STREQ(err.data, "oops\n", "stderr captured");
	proc_output_release(&err);

	/* The child's environment is the fixed one, not ours. */
	setenv("VPN_CONFINEMENT_TEST_SECRET", "leak", 1);
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.out = &out;
	r = proc_run(env, &o);
	CHECK(r == 0 && out.data && !strstr(out.data, "VPN_CONFINEMENT_TEST_SECRET") && strstr(out.data, "LC_ALL=C"),
	      "fixed environment: %s", out.data ? out.data : "(null)");
	proc_output_release(&out);
	unsetenv("VPN_CONFINEMENT_TEST_SECRET");

	/* A program that cannot be run: 127 from the child. */
	o = (struct proc_opts)PROC_OPTS_INIT;
	o.err = &err;
	r = proc_run(missing, &o);
	CHECK(r == 127, "missing program: %d", r);
	proc_output_release(&err);
}

static void test_memstream(void) {
	struct proc_output o = { 0 };
	FILE *f = proc_output_memstream(&o);
	size_t n = 0;

	CHECK(f != NULL, "memstream");
	if (!f)
		return;
	for (int i = 0; i < 5000; i++)
		n += (size_t)fprintf(f, "line %d\n", i);
	CHECK(fclose(f) == 0, "fclose");
	CHECK(o.len == n && o.data && strncmp(o.data, "line 0\nline 1\n", 14) == 0 && o.data[o.len] == '\0',
	      "memstream holds %zu of %zu bytes", o.len, n);
	proc_output_release(&o);
}

static void test_state(void) {
	char dir[] = "/tmp/vc-unit-XXXXXX";
	_cleanup_free_ char *text = NULL, *v = NULL, *path = NULL;
	struct wg_state st;
	int r;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	setenv("VPN_CONFINEMENT_RUNDIR", dir, 1);

	CHECK(!state_exists("abc", "netns"), "absent");
	CHECK(state_read("abc", "netns", &text) == -ENOENT, "read absent");
	CHECK(state_write("abc", "netns", "a=1\nbb=two\n") == 0, "write");
	CHECK(state_exists("abc", "netns"), "present");
	CHECK(state_read("abc", "netns", &text) == 0, "read");
	CHECK_STREQ(text, "a=1\nbb=two\n", "content");
	v = state_get(text, "bb");
	CHECK_STREQ(v, "two", "state_get");
	free(v);
	v = state_get(text, "b");
	CHECK(v == NULL, "no prefix match");
	free(v);
	v = state_get("x=1", "x");
	CHECK_STREQ(v, "1", "last line without newline");

	/* Names that could leave the run directory are refused. */
	CHECK(state_path("abc", "../x", &path) == -EINVAL, "file with /");
	CHECK(state_path("../x", "netns", &path) == -EINVAL, "bad namespace name");
	CHECK(state_write("ABC", "netns", "") == -EINVAL, "uppercase name");

	/* The wg run file. */
	CHECK(state_write("abc", STATE_WG, "implementation=userspace\ntmpname=vc-abc-1f2e\nsocket=vc-abc-1f2e\npid=42\n") == 0,
	      "write wg");
	r = wg_state_load("abc", &st);
	CHECK(r == 0 && st.pid == 42 && st.socket && streq(st.socket, "vc-abc-1f2e") && st.implementation &&
		      streq(st.implementation, "userspace"),
	      "wg state: %d", r);
	wg_state_clear(&st);
	CHECK(state_write("abc", STATE_WG, "implementation=userspace\nsocket=../../etc/x\npid=42\n") == 0, "write");
	CHECK(wg_state_load("abc", &st) == -EBADMSG, "a socket name that is a path is refused");
	CHECK(state_write("abc", STATE_WG, "implementation=kernel\ntmpname=vc-abc-0000\npid=-3\n") == 0, "write");
	CHECK(wg_state_load("abc", &st) == 0 && st.pid == 0 && !st.socket, "bad pid ignored");
	wg_state_clear(&st);

	/* In place: the same inode, the new content, no trailing old bytes. */
	{
		_cleanup_free_ char *p = NULL, *t = NULL;
		struct stat a, b;

		CHECK(state_write_inplace("abc", "resolv.conf", "nameserver 10.0.0.1\nnameserver 10.0.0.2\n") == 0,
		      "inplace 1");
		CHECK(state_path("abc", "resolv.conf", &p) == 0 && stat(p, &a) == 0, "stat 1");
		CHECK(state_write_inplace("abc", "resolv.conf", "# down\n") == 0, "inplace 2");
		CHECK(stat(p, &b) == 0 && a.st_ino == b.st_ino && (b.st_mode & 0777) == 0644, "same inode, 0644");
		CHECK(state_read("abc", "resolv.conf", &t) == 0, "read back");
		CHECK_STREQ(t, "# down\n", "truncated to the new content");
		CHECK(state_remove("abc", "resolv.conf") == 0, "remove");
	}

	CHECK(state_remove("abc", STATE_WG) == 0 && state_remove("abc", STATE_WG) == 0, "remove twice");
	CHECK(state_rmdir("abc") == 0 && state_exists("abc", "netns"), "rmdir keeps a non-empty dir");
	CHECK(state_remove("abc", "netns") == 0 && state_rmdir("abc") == 0, "remove all");
	CHECK(access(dir, F_OK) == 0 && rmdir(dir) == 0, "only our files were there");
	unsetenv("VPN_CONFINEMENT_RUNDIR");
}

static void test_tmpname(void) {
	CHECK(wg_tmpname_valid("vc-abc-1f2e"), "valid");
	CHECK(wg_tmpname_valid("vc-abcdefg-ffff"), "15 chars");
	CHECK(!wg_tmpname_valid("vc-abcdefgh-ffff"), "16 chars");
	CHECK(!wg_tmpname_valid("wg0"), "other prefix");
	CHECK(!wg_tmpname_valid("vc-a/b"), "slash");
	CHECK(!wg_tmpname_valid("vc-a.b"), "dot");
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

static void test_netlink(void) {
	_cleanup_free_ struct nl_link *links = NULL;
	_cleanup_free_ struct nl_addr *addrs = NULL;
	size_t nl = 0, na = 0;
	struct ipaddr lo;
	bool have_lo = false;
	int oif = 0, r;

	r = nl_dump_links(&links, &nl);
	CHECK(r == 0, "dump links: %d", r);
	for (size_t i = 0; i < nl; i++)
		have_lo |= streq(links[i].name, "lo") && links[i].ifindex == (int)if_nametoindex("lo");
	CHECK(have_lo, "lo in the link dump");
	r = nl_dump_addrs(&addrs, &na);
	CHECK(r == 0, "dump addrs: %d", r);
	ipaddr_parse("127.0.0.1", &lo);
	r = nl_route_get(&lo, &oif);
	/* lo may be down in a bare test namespace; then there is no route. */
	CHECK((r == 0 && oif == (int)if_nametoindex("lo")) || r == -ENETUNREACH, "route to 127.0.0.1: %d oif %d",
	      r, oif);
}

int main(void) {
	test_proc();
	test_memstream();
	test_state();
	test_tmpname();
	test_names();
	test_netlink();
	return test_done();
}
