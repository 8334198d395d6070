/* SPDX-License-Identifier: MIT */
/* Subcommands of vpn-confinement(8). Each returns the process exit code and
 * is the boundary that prints diagnostics. */
#pragma once

/* Exit codes, documented in vpn-confinement(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,   /* the operation failed (or check found a difference) */
	EXIT_USAGE = 2,  /* bad command line */
	EXIT_CONFIG = 3, /* the ini or the wg config is invalid */
	/* exec exits with COMMAND's status, or 125, 126, 127 (cmd-exec.c). */
};

int cmd_strip(int argc, char **argv);
int cmd_ruleset(int argc, char **argv);
int cmd_netns_up(int argc, char **argv);
int cmd_netns_down(int argc, char **argv);
int cmd_wg_up(int argc, char **argv);
int cmd_wg_down(int argc, char **argv);
int cmd_wait_online(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_config_error(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_port_forward(int argc, char **argv);
