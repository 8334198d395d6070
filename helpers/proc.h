/* SPDX-License-Identifier: MIT */
/* Running the external tools (wg, wireguard-go): always an
 * argv array and execve(), never a shell; a small fixed environment; stdin
 * fed from a buffer through a pipe, so secrets never reach argv or the
 * environment; optionally inside another network namespace (the child calls
 * setns() before execve()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct text;

struct proc_opts {
	int netns_fd;          /* >= 0: run in this network namespace */
	const char *stdin_buf; /* NULL: stdin is /dev/null */
	size_t stdin_len;
	/* Captured output (NULL: inherited), always a secret text (common/text.h):
	 * `wg show dump` prints the private key. */
	struct text *out;
	struct text *err;
	char *const *envp;       /* NULL: the default environment (PATH, LC_ALL=C) */
};
#define PROC_OPTS_INIT { .netns_fd = -1 }

/* Run argv[0] (an absolute path) and wait for it. Returns its exit status
 * (0-255, or 128+signal), or a negative errno when it could not be run. */
int proc_run(char *const argv[], const struct proc_opts *o);

/* Like proc_run(), inheriting stdio, and returns 0 only when the program
 * exited 0. Otherwise prints "vpn-confinement: STEP: PROGRAM exited with
 * status X" to stderr (the program's own message precedes it) and returns
 * -EPROTO (or the negative errno when it could not be run). */
int proc_run_step(const char *step, char *const argv[], const struct proc_opts *o);

/* Start a long-running daemon (wireguard-go in foreground mode): a new
 * session, stdin /dev/null, stdout and stderr to log_fd (or inherited when
 * log_fd < 0). Does not wait. Returns 0 and *pid, or a negative errno. */
int proc_spawn_daemon(char *const argv[], char *const envp[], int log_fd, pid_t *pid);

/* Start a program that holds no capability and can gain none (the
 * bounding and ambient sets emptied, no_new_privs), in a session of its
 * own (so that its process group can be signalled as a whole), stdin
 * /dev/null, stdout and stderr to out_fd, environment envp. Does not wait.
 * Exit status 126: the capabilities could not be dropped (CAP_SETPCAP
 * missing), so it did not run; 127: it could not be executed. */
int proc_spawn_unprivileged(char *const argv[], char *const envp[], int out_fd, pid_t *pid);

/* What the kernel says about a process: its start time (clock ticks after
 * boot, /proc/PID/stat field 22; with the pid it names one process for
 * good), whether its executable is path (after resolving links), and
 * whether one of its arguments after argv[0] is arg. Each fails (-ESRCH,
 * false) for a process that is gone or a zombie. */
int proc_start_time(pid_t pid, uint64_t *out);
bool proc_exe_is(pid_t pid, const char *path);
bool proc_has_arg(pid_t pid, const char *arg);

/* No core dump of this process, which reads private keys: not dumpable,
 * RLIMIT_CORE 0 (hard limit too). The limit it had is kept. */
int proc_no_core_dumps(void);
/* That limit back (as root), for a program this process becomes once it
 * holds no key any more (`vpn-confinement exec`). */
int proc_core_limit_restore(void);

/* Whether stderr is connected to the journal (systemd's JOURNAL_STREAM). */
bool stderr_is_journal(void);
