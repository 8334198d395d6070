/* SPDX-License-Identifier: MIT */
#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "log.h"
#include "text.h"
#include "util.h"

#define PROC_OUTPUT_MAX (16u * 1024 * 1024)

static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

static void close_pair(int p[2]) {
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* In the child: from here on only async-signal-safe calls, then execve or
 * _exit(127). */
static _Noreturn void child_exec(char *const argv[], char *const envp[], int netns_fd, int in_fd,
				 int out_fd, int err_fd) {
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		_exit(127);
	if (in_fd >= 0 && dup2(in_fd, 0) < 0)
		_exit(127);
	if (out_fd >= 0 && dup2(out_fd, 1) < 0)
		_exit(127);
	if (err_fd >= 0 && dup2(err_fd, 2) < 0)
		_exit(127);
	/* Nothing else of ours (netns fds, nft sockets, state files) leaks into
	 * the tool. */
	syscall(SYS_close_range, 3u, ~0u, 0u);
	execve(argv[0], argv, envp ? envp : default_env);
	_exit(127);
}

static int append_read(int fd, struct text *o) {
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	int r;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	r = text_append(o, buf, (size_t)n, PROC_OUTPUT_MAX);
	explicit_wipe(buf, (size_t)n);
	return r < 0 ? r : 1;
}

int proc_run(char *const argv[], const struct proc_opts *o) {
	static const struct proc_opts defaults = PROC_OPTS_INIT;
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
	_cleanup_close_ int devnull = -1;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	size_t written = 0;
	int r = 0, status;
	pid_t pid;

	if (!o)
		o = &defaults;
	if (o->out)
		*o->out = (struct text){ .secret = true };
	if (o->err)
		*o->err = (struct text){ .secret = true };

	if (o->stdin_buf) {
		if (pipe2(in_p, O_CLOEXEC) < 0)
			return -errno;
	} else {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0)
			return -errno;
	}
	if ((o->out && pipe2(out_p, O_CLOEXEC) < 0) || (o->err && pipe2(err_p, O_CLOEXEC) < 0)) {
		r = -errno;
		goto out_close;
	}

	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out_close;
	}
	if (pid == 0)
		child_exec(argv, o->envp, o->netns_fd, o->stdin_buf ? in_p[0] : devnull, out_p[1],
			   err_p[1]);

	if (in_p[0] >= 0) {
		close(in_p[0]);
		in_p[0] = -1;
	}
	if (out_p[1] >= 0) {
		close(out_p[1]);
		out_p[1] = -1;
	}
	if (err_p[1] >= 0) {
		close(err_p[1]);
		err_p[1] = -1;
	}
	/* A child that exits without reading its stdin must not kill us. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	if (in_p[1] >= 0)
		fcntl(in_p[1], F_SETFL, O_NONBLOCK);
	if (o->stdin_buf && o->stdin_len == 0) {
		close(in_p[1]);
		in_p[1] = -1;
	}

	while (in_p[1] >= 0 || out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd pf[3];
		int n = 0, io = -1, oo = -1, eo = -1;

		if (in_p[1] >= 0) {
			io = n;
			pf[n++] = (struct pollfd){ .fd = in_p[1], .events = POLLOUT };
		}
		if (out_p[0] >= 0) {
			oo = n;
			pf[n++] = (struct pollfd){ .fd = out_p[0], .events = POLLIN };
		}
		if (err_p[0] >= 0) {
			eo = n;
			pf[n++] = (struct pollfd){ .fd = err_p[0], .events = POLLIN };
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (io >= 0 && pf[io].revents) {
			ssize_t w = write(in_p[1], o->stdin_buf + written, o->stdin_len - written);

			if (w > 0)
				written += (size_t)w;
			/* EPIPE: the child closed its stdin; its exit status tells. */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == o->stdin_len) {
				close(in_p[1]);
				in_p[1] = -1;
			}
		}
		if (oo >= 0 && pf[oo].revents) {
			int k = append_read(out_p[0], o->out);
			if (k <= 0) {
				if (k < 0 && r == 0)
					r = k;
				close(out_p[0]);
				out_p[0] = -1;
			}
		}
		if (eo >= 0 && pf[eo].revents) {
			int k = append_read(err_p[0], o->err);
			if (k <= 0) {
				if (k < 0 && r == 0)
					r = k;
				close(err_p[0]);
				err_p[0] = -1;
			}
		}
	}
	sigaction(SIGPIPE, &old_pipe, NULL);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			goto out_close;
		}
	if (r == 0) {
		if (WIFEXITED(status))
			r = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			r = 128 + WTERMSIG(status);
		else
			r = -EPROTO;
	}

out_close:
	close_pair(in_p);
	close_pair(out_p);
	close_pair(err_p);
	if (r < 0) {
		if (o->out)
			text_release(o->out);
		if (o->err)
			text_release(o->err);
	}
	return r;
}

int proc_run_step(const char *step, char *const argv[], const struct proc_opts *o) {
	int r = proc_run(argv, o);

	if (r == 0)
		return 0;
	if (r < 0)
		return log_errno(r, "%s: cannot run %s", step, argv[0]);
	if (r == 127)
		log_msg("%s: %s exited with status 127 (missing, or could not enter the namespace)", step, argv[0]);
	else
		log_msg("%s: %s exited with status %d", step, argv[0], r);
	return -EPROTO;
}

/* In the child, before execve: no capability left, none to regain (the
 * bounding set and the ambient set emptied, so that root's execve gets
 * none), no new privileges through setuid or file capabilities. Only
 * async-signal-safe calls. Fails when any step does: never run with more
 * than asked. */
static int drop_all_capabilities(void) {
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* A child in a session of its own, stdin /dev/null, stdout and stderr to
 * out_fd; without any capability when unprivileged (exit 126 when they
 * cannot be dropped). */
static int spawn(char *const argv[], char *const envp[], int out_fd, bool unprivileged, pid_t *pid) {
	_cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t p;

	if (devnull < 0)
		return -errno;
	p = fork();
	if (p < 0)
		return -errno;
	if (p == 0) {
		if (setsid() < 0 && unprivileged)
			_exit(126);
		if (unprivileged && drop_all_capabilities() < 0)
			_exit(126);
		child_exec(argv, envp, -1, devnull, out_fd, out_fd);
	}
	*pid = p;
	return 0;
}

int proc_spawn_daemon(char *const argv[], char *const envp[], int log_fd, pid_t *pid) {
	return spawn(argv, envp, log_fd, false, pid);
}

int proc_spawn_unprivileged(char *const argv[], char *const envp[], int out_fd, pid_t *pid) {
	return spawn(argv, envp, out_fd, true, pid);
}

int proc_start_time(pid_t pid, uint64_t *out) {
	_cleanup_free_ char *text = NULL;
	char path[64];
	const char *p;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_file_capped(path, 4096, &text, &len);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* "pid (comm) state ...": comm may hold anything, up to the last ')'.
	 * Then state is field 3 and starttime field 22. */
	p = strrchr(text, ')');
	if (!p)
		return -EBADMSG;
	p++;
	for (int field = 3; field <= 22; field++) {
		char *end;
		uint64_t v;

		while (*p == ' ')
			p++;
		if (!*p)
			return -EBADMSG;
		if (field == 3 && *p == 'Z')
			return -ESRCH; /* a zombie: gone but for its parent's wait */
		if (field == 22) {
			errno = 0;
			v = strtoull(p, &end, 10);
			if (errno || end == p)
				return -EBADMSG;
			*out = v;
			return 0;
		}
		p = strchrnul(p, ' ');
	}
	return -EBADMSG;
}

bool proc_exe_is(pid_t pid, const char *path) {
	_cleanup_free_ char *want = realpath(path, NULL);
	char link[64], have[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, have, sizeof(have) - 1);
	if (n < 0 || !want)
		return false;
	have[n] = '\0';
	return streq(have, want);
}

bool proc_has_arg(pid_t pid, const char *arg) {
	_cleanup_free_ char *cmdline = NULL;
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_file_capped(path, 65536, &cmdline, &len) < 0 || len == 0)
		return false;
	for (size_t off = strlen(cmdline) + 1; off < len; off += strlen(cmdline + off) + 1)
		if (streq(cmdline + off, arg))
			return true;
	return false;
}

bool stderr_is_journal(void) {
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static struct rlimit core_limit_before;
static bool core_limit_saved;

int proc_no_core_dumps(void) {
	struct rlimit none = { 0, 0 };

	/* Inherited by wireguard-go, which holds the key too. */
	if (!core_limit_saved && getrlimit(RLIMIT_CORE, &core_limit_before) == 0)
		core_limit_saved = true;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
		return -errno;
	return 0;
}

int proc_core_limit_restore(void) {
	if (!core_limit_saved)
		return 0;
	return setrlimit(RLIMIT_CORE, &core_limit_before) < 0 ? -errno : 0;
}
