/* SPDX-License-Identifier: MIT */
/* A seccomp filter that does what systemd's RestrictNamespaces=yes does,
 * written by hand (a classic BPF program, no libseccomp): unshare() and
 * clone() with any CLONE_NEW* flag and setns() of any namespace type (type
 * 0 means any) fail with EPERM, clone3() with ENOSYS (its flags are in
 * memory a filter cannot read; the C library then falls back to clone()).
 * And, because `vpn-confinement exec` runs in the caller's terminal, which
 * a service does not have: ioctl(TIOCSTI), which would type into that
 * terminal's input (for the caller's shell to run after the command
 * exits), fails with EPERM.
 *
 * It knows the system call numbers of the architecture it is built for and
 * of the compatible ABIs the kernel may run beside it (x32 and i386 on
 * x86_64, arm on aarch64); a system call of any other architecture kills
 * the process. */
#pragma once

#include <linux/filter.h>
#include <stddef.h>

/* The program (a static array); *n its length. NULL if it did not fit
 * (a bug the unit tests would show). */
const struct sock_filter *seccomp_ns_filter(size_t *n);

/* Install it in this process (and what it executes); needs no_new_privs
 * (or CAP_SYS_ADMIN). 0 or a negative errno. */
int seccomp_restrict_namespaces(void);
