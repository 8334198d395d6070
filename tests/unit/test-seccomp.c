/* SPDX-License-Identifier: MIT */
/* The RestrictNamespaces filter (helpers/seccomp.h) against the real
 * kernel: each probe runs in a child, once with the filter and once
 * without it (the control: the same call gets through, as root), so a
 * probe that could never have worked cannot pass as "refused". */
#include <fcntl.h>
#include <linux/sched.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp.h"
#include "test.h"
#include "util.h"

/* A probe: 0 when the call succeeded, else the errno it failed with. */
typedef int (*probe_fn)(void);

static int p_unshare_net(void) { return unshare(CLONE_NEWNET) == 0 ? 0 : errno; }
static int p_unshare_user(void) { return unshare(CLONE_NEWUSER) == 0 ? 0 : errno; }
static int p_unshare_mnt_in_set(void) { return unshare(CLONE_FS | CLONE_NEWNS) == 0 ? 0 : errno; }
static int p_unshare_time(void) { return unshare(CLONE_NEWTIME) == 0 ? 0 : errno; }
static int p_unshare_fs(void) { return unshare(CLONE_FS) == 0 ? 0 : errno; }
static int p_setns(int type) {
	_cleanup_close_ int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -1 : setns(fd, type) == 0 ? 0 : errno;
}
static int p_setns_any(void) { return p_setns(0); }
static int p_setns_net(void) { return p_setns(CLONE_NEWNET); }
/* clone() itself (the raw system call, as a fork), with flags. */
static int p_clone(unsigned long flags) {
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}
static int p_clone_newns(void) { return p_clone(CLONE_NEWNS); }
static int p_clone_newpid(void) { return p_clone(CLONE_NEWPID); }
static int p_clone_plain(void) { return p_clone(0); }
static int p_fork(void) {
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid(pid, NULL, 0);
	return 0;
}
static int p_clone3(void) {
	struct clone_args a = { .flags = CLONE_NEWNET, .exit_signal = SIGCHLD };
	long pid = syscall(435, &a, sizeof(a));
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}
/* A high word set in the flags must not hide them: refused by the filter
 * (which reads the low word), and by the kernel itself without it (its
 * unshare() takes all 64 bits and refuses unknown ones: EINVAL). */
static int p_unshare_high(void) { return syscall(SYS_unshare, 0xffffffff00000000UL | CLONE_NEWNET) == 0 ? 0 : errno; }
/* ioctl(cmd) on a terminal of our own (a pty): 0 or its errno. cmd as
 * the raw system call takes it, high bits and all. */
static int pty_ioctl(unsigned long cmd, void *arg) {
	int master, slave, r;

	if (openpty(&master, &slave, NULL, NULL, NULL) < 0)
		return -1;
	r = syscall(SYS_ioctl, slave, cmd, arg) == 0 ? 0 : errno;
	close(master);
	close(slave);
	return r;
}
/* TIOCSTI: a character typed into the terminal's input. */
static int p_tiocsti(void) {
	char c = 'x';
	return pty_ioctl(TIOCSTI, &c);
}
static int p_tiocsti_high(void) {
	char c = 'x';
	return pty_ioctl(0x100000000UL | TIOCSTI, &c);
}
static int p_ioctl_other(void) {
	int n;
	return pty_ioctl(FIONREAD, &n);
}
#if defined(__x86_64__)
/* The same calls through the other ABIs of x86_64. */
static int p_x32_unshare(void) {
	long r = syscall(0x40000000 | SYS_unshare, CLONE_NEWNET);
	return r == 0 ? 0 : errno;
}
static int p_i386_unshare(void) {
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "0"(310L), "b"((long)CLONE_NEWNET) : "memory");
	return r == 0 ? 0 : (int)-r;
}
static int p_i386_getpid(void) {
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "0"(20L) : "memory");
	return r > 0 ? 0 : (int)-r;
}
#endif

/* Run probe in a child with or without the filter: its result, or -2 when
 * the child died of a signal (SIGSYS: killed by the filter). */
static int run(probe_fn probe, bool filtered) {
	int pipefd[2], result = -3, status;
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -4;
	pid = fork();
	if (pid == 0) {
		int r;
		close(pipefd[0]);
		if (filtered && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_restrict_namespaces() < 0))
			_exit(99);
		r = probe();
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(98);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &result, sizeof(result)) != sizeof(result))
		result = -3;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return -2;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 99)
		return -5;
	return result;
}

static const struct {
	const char *name;
	probe_fn probe;
	int want; /* with the filter */
	bool control_needs_root;
	int control; /* without it (0: the call gets through) */
} cases[] = {
	{ "unshare(CLONE_NEWNET)", p_unshare_net, EPERM, true, 0 },
	{ "unshare(CLONE_NEWUSER)", p_unshare_user, EPERM, false, 0 },
	{ "unshare(CLONE_FS|CLONE_NEWNS)", p_unshare_mnt_in_set, EPERM, true, 0 },
	{ "unshare(CLONE_NEWTIME)", p_unshare_time, EPERM, true, 0 },
	{ "unshare with high bits set", p_unshare_high, EPERM, false, EINVAL },
	{ "setns(fd, 0)", p_setns_any, EPERM, true, 0 },
	{ "setns(fd, CLONE_NEWNET)", p_setns_net, EPERM, true, 0 },
	{ "clone(CLONE_NEWNS)", p_clone_newns, EPERM, true, 0 },
	{ "clone(CLONE_NEWPID)", p_clone_newpid, EPERM, true, 0 },
	{ "clone3(CLONE_NEWNET)", p_clone3, ENOSYS, true, 0 },
	{ "ioctl(TIOCSTI)", p_tiocsti, EPERM, true, 0 },
	{ "ioctl(TIOCSTI) with high bits set", p_tiocsti_high, EPERM, true, 0 },
	/* What stays allowed. */
	{ "unshare(CLONE_FS)", p_unshare_fs, 0, false, 0 },
	{ "clone() without namespace flags", p_clone_plain, 0, false, 0 },
	{ "fork()", p_fork, 0, false, 0 },
	{ "another ioctl on a terminal", p_ioctl_other, 0, false, 0 },
#if defined(__x86_64__)
	{ "x32 unshare(CLONE_NEWNET)", p_x32_unshare, EPERM, false, 0 },
	{ "i386 unshare(CLONE_NEWNET)", p_i386_unshare, EPERM, true, 0 },
	{ "i386 getpid()", p_i386_getpid, 0, false, 0 },
#endif
};

int main(void) {
	size_t n;
	bool root = geteuid() == 0;

	CHECK(seccomp_ns_filter(&n) != NULL && n > 0 && n < 255, "the program fits (%zu instructions)", n);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int with = run(cases[i].probe, true), without = run(cases[i].probe, false);

		CHECK(with == cases[i].want, "%s with the filter: %d, want %d", cases[i].name, with, cases[i].want);
		if (cases[i].want == 0)
			continue;
		/* The control: the same call without the filter. The x32 and
		 * i386 ABIs may be off in this kernel (ENOSYS): then only the
		 * refusal above is shown. */
		if (!root && cases[i].control_needs_root)
			continue;
		if (without == ENOSYS && strstr(cases[i].name, "x32"))
			continue;
		if (without == ENOSYS && strstr(cases[i].name, "i386"))
			continue;
		CHECK(without == cases[i].control, "control: %s without the filter: %d, want %d", cases[i].name, without,
		      cases[i].control);
	}
	return test_done();
}
