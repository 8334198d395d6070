/* SPDX-License-Identifier: MIT */
/* Rendering values into systemd unit files safely.
 *
 * Unit files expand specifiers ("%i", "%n", ...) in most values, split list
 * settings on whitespace, BindPaths= on ':', and unquote and C-unescape
 * command lines, then expand "$VAR" at exec time. Every value this project
 * writes goes through one of these functions, so no input text can change
 * the meaning of a setting. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether path can be written as is into a path setting (SourcePath=,
 * RequiresMountsFor=, BindReadOnlyPaths=, NetworkNamespacePath=): absolute,
 * normalized (no "//", "/./", "/../", no trailing '/'), made only of
 * [A-Za-z0-9._+@-] and '/', and at most 1024 bytes. ':' (BindPaths=), '%'
 * (specifiers), whitespace, quotes and backslashes are all refused. */
bool unit_path_plain(const char *path);

/* s with every '%' doubled, for a setting that expands specifiers.
 * The caller frees; NULL on ENOMEM. */
char *unit_escape_specifiers(const char *s);

/* s as one double-quoted word of an Exec*= command line: '%' -> "%%",
 * '$' -> "$$", '"' and '\\' backslash-escaped, bytes outside printable
 * ASCII as \xNN. At most max_len bytes of s are used (0: no limit); a cut
 * never splits an escape. The caller frees; NULL on ENOMEM. */
char *unit_exec_arg_quote(const char *s, size_t max_len);
