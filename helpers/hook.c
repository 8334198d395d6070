/* SPDX-License-Identifier: MIT */
#include "hook.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "log.h"
#include "proc.h"
#include "util.h"

#define HOOK_KILL_AFTER_MS 5000
#define HOOK_BACKOFF_FIRST_MS 2000
#define HOOK_BACKOFF_MAX_MS 60000

const char *hook_state_str(enum hook_state s) {
	switch (s) {
	case HOOK_PENDING:
		return "pending";
	case HOOK_RUNNING:
		return "running";
	case HOOK_OK:
		return "ok";
	case HOOK_FAILED:
		return "failed";
	default:
		return "none";
	}
}

void hook_init(struct hook *h, const struct cmdline *cmd, const char *ns, unsigned timeout_ms) {
	*h = (struct hook){ .cmd = cmd, .ns = ns, .timeout_ms = timeout_ms, .out_fd = -1 };
}

void hook_request(struct hook *h, uint16_t port, int64_t now) {
	if (!h->cmd || h->cmd->argc == 0)
		return;
	h->want = port;
	h->owed = port != 0;
	h->owed_quiet = false;
	h->due_ms = now;
	h->failures = 0;
	if (h->owed && h->state != HOOK_RUNNING)
		h->state = HOOK_PENDING;
}

void hook_retell(struct hook *h, uint16_t port, int64_t now) {
	if (!h->cmd || h->cmd->argc == 0 || !port || h->owed || h->pid > 0 || h->state != HOOK_OK ||
	    h->last_port != port)
		return;
	h->want = port;
	h->owed = h->owed_quiet = true;
	h->due_ms = now;
}

int hook_fd(const struct hook *h) { return h->out_fd; }

static void flush_line(struct hook *h) {
	if (h->line_len == 0)
		return;
	h->line[h->line_len] = '\0';
	if (h->quiet) {
		/* Kept (as much as fits) for a failure to show. */
		int n = snprintf(h->kept + h->kept_len, sizeof(h->kept) - h->kept_len, "%s\n", h->line);
		if (n > 0)
			h->kept_len = h->kept_len + (size_t)n < sizeof(h->kept) ? h->kept_len + (size_t)n : sizeof(h->kept) - 1;
	} else
		log_msg("%s: hook: %s", h->ns, h->line);
	h->line_len = 0;
}

void hook_read(struct hook *h) {
	char buf[4096];
	ssize_t n;

	if (h->out_fd < 0)
		return;
	while ((n = read(h->out_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				flush_line(h);
				continue;
			}
			/* Its text is logged as text: no control byte reaches
			 * the journal. */
			h->line[h->line_len++] = (unsigned char)buf[i] < 0x20 && buf[i] != '\t' ? '?' : buf[i];
			if (h->line_len == sizeof(h->line) - 1)
				flush_line(h);
		}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Its end (or an error): what is left is logged, the fd closed. */
		flush_line(h);
		close(h->out_fd);
		h->out_fd = -1;
	}
}

static void start(struct hook *h, int64_t now) {
	char portbuf[8], env_port[64], env_ns[64];
	char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", env_port,
			env_ns, NULL };
	_cleanup_free_ char **argv = calloc(h->cmd->argc + 2, sizeof(char *));
	int p[2];
	int r;

	if (!argv) {
		log_errno(ENOMEM, "%s: hook", h->ns);
		h->due_ms = now + HOOK_BACKOFF_FIRST_MS;
		return;
	}
	snprintf(portbuf, sizeof(portbuf), "%u", h->want);
	snprintf(env_port, sizeof(env_port), "VPN_CONFINEMENT_FORWARDED_PORT=%u", h->want);
	snprintf(env_ns, sizeof(env_ns), "VPN_CONFINEMENT_NAMESPACE=%s", h->ns);
	for (size_t i = 0; i < h->cmd->argc; i++)
		argv[i] = h->cmd->argv[i];
	argv[h->cmd->argc] = portbuf;
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_errno(errno, "%s: hook: making its output pipe", h->ns);
		h->due_ms = now + HOOK_BACKOFF_FIRST_MS;
		return;
	}
	r = proc_spawn_unprivileged(argv, env, p[1], &h->pid);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		log_errno(r, "%s: hook: starting %s", h->ns, argv[0]);
		h->pid = 0;
		h->due_ms = now + HOOK_BACKOFF_FIRST_MS;
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	h->out_fd = p[0];
	h->line_len = 0;
	h->kept_len = 0;
	h->kept[0] = '\0';
	h->quiet = h->owed_quiet;
	h->port = h->want;
	h->owed = h->owed_quiet = false;
	h->state = HOOK_RUNNING;
	h->term_sent = false;
	h->deadline_ms = now + h->timeout_ms;
	if (!h->quiet)
		log_msg("%s: hook: running %s with port %u (pid %d)", h->ns, argv[0], h->port, (int)h->pid);
}

void hook_tick(struct hook *h, int64_t now) {
	if (h->pid > 0) {
		if (!h->term_sent && now >= h->deadline_ms) {
			log_msg("%s: hook: still running after %u s: stopping it (SIGTERM to its process group)", h->ns,
				h->timeout_ms / 1000);
			kill(-h->pid, SIGTERM);
			h->term_sent = true;
			h->kill_ms = now + HOOK_KILL_AFTER_MS;
		} else if (h->term_sent && now >= h->kill_ms) {
			kill(-h->pid, SIGKILL);
			h->kill_ms = INT64_MAX;
		}
		return;
	}
	if (h->owed && now >= h->due_ms)
		start(h, now);
}

int64_t hook_next_ms(const struct hook *h) {
	if (h->pid > 0)
		return h->term_sent ? h->kill_ms : h->deadline_ms;
	return h->owed ? h->due_ms : INT64_MAX;
}

void hook_reap(struct hook *h, int64_t now) {
	int status;
	pid_t r;

	if (h->pid <= 0)
		return;
	r = waitpid(h->pid, &status, WNOHANG);
	if (r != h->pid)
		return;
	hook_read(h);
	flush_line(h);
	if (h->out_fd >= 0) {
		/* A process it left behind may hold the pipe: not ours to wait for. */
		close(h->out_fd);
		h->out_fd = -1;
	}
	h->pid = 0;
	h->last_port = h->port;
	h->last_status = h->term_sent ? -1
			 : WIFEXITED(status) ? WEXITSTATUS(status)
					     : 128 + WTERMSIG(status);
	if (h->quiet && h->last_status != 0) {
		/* What a quiet run said, now that it matters. */
		char *save = NULL;

		log_msg("%s: hook: telling port %u again failed; its output:", h->ns, h->port);
		for (char *l = strtok_r(h->kept, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			log_msg("%s: hook: %s", h->ns, l);
	}
	if (h->last_status == 0) {
		if (!h->quiet)
			log_msg("%s: hook: told the client port %u (exit status 0)", h->ns, h->port);
		h->failures = 0;
		h->state = HOOK_OK;
	} else {
		unsigned delay = backoff_ms(HOOK_BACKOFF_FIRST_MS, HOOK_BACKOFF_MAX_MS, h->failures);

		h->failures++;
		h->state = HOOK_FAILED;
		if (h->term_sent)
			log_msg("%s: hook: timed out with port %u", h->ns, h->port);
		else if (WIFEXITED(status))
			log_msg("%s: hook: failed with port %u (exit status %d)%s", h->ns, h->port,
				h->last_status, h->last_status == 126 ? ": its capabilities could not be dropped" : "");
		else
			log_msg("%s: hook: killed by signal %d with port %u", h->ns, WTERMSIG(status), h->port);
		/* Retried, unless a request came meanwhile (then it is due now). */
		if (!h->owed && h->want) {
			h->owed = true;
			h->due_ms = now + delay;
			log_msg("%s: hook: trying again in %u s", h->ns, delay / 1000);
		}
	}
	if (h->owed)
		h->state = h->state == HOOK_FAILED ? HOOK_FAILED : HOOK_PENDING;
}

void hook_stop(struct hook *h) {
	if (h->pid > 0) {
		kill(-h->pid, SIGTERM);
		for (int i = 0; i < 50; i++) {
			if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
				h->pid = 0;
				break;
			}
			usleep(100000);
		}
		if (h->pid > 0) {
			kill(-h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			h->pid = 0;
		}
	}
	if (h->out_fd >= 0) {
		hook_read(h);
		flush_line(h);
		if (h->out_fd >= 0)
			close(h->out_fd);
		h->out_fd = -1;
	}
	h->owed = false;
}
