/* SPDX-License-Identifier: MIT */
/* The credentials of this process (capabilities, user and group ids,
 * no_new_privs), for a command it is about to become: `vpn-confinement
 * exec` (confine.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct confinement_cap;

/* Take caps out of the capability bounding set, and out of the
 * inheritable set, and clear the ambient set, so that nothing this process
 * executes can hold them, root or not (needs CAP_SETPCAP); then checks
 * that none is left in the bounding set. */
int creds_drop_caps(const struct confinement_cap *caps, size_t n);

/* Become uid and gid with the supplementary groups given: setgroups(),
 * setresgid(), setresuid() (real, effective and saved alike); then checks
 * that there is no way back. */
int creds_become(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

/* PR_SET_NO_NEW_PRIVS: no set-user-ID bit or file capability raises
 * privileges in what this process executes. */
int creds_no_new_privs(void);
