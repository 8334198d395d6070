/* SPDX-License-Identifier: MIT */
/* A command line split into words as systemd splits ExecStart= (its
 * extract_first_word() with EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE), for
 * PortForwardingHook= (vpn-confinement.ini(5)): words separated by spaces
 * and tabs; single and double quotes anywhere in a word, removed, keeping
 * the separators inside them; C escapes inside and outside quotes: \a \b
 * \f \n \r \t \v \\ \" \' \s (a space), \xHH and \NNN (octal), never
 * producing a NUL byte.
 *
 * What systemd's ExecStart= would give another meaning to, or that this
 * subset does not do, is refused with a message rather than taken
 * literally: a specifier (%X; "%%" is a '%'), an environment variable
 * ($NAME, ${NAME}; "$$" is a '$'), a ';' word (a second command; "\;" is a
 * ';'), the prefixes of the first word (- @ + ! :), \u and \U escapes, an
 * unknown escape (systemd keeps it with a warning), an unbalanced quote, a
 * trailing backslash. The program must be an absolute path: no search
 * through PATH for a command that runs as root. */
#pragma once

#include <stddef.h>

#define CMDLINE_MAX_WORDS 256

struct cmdline {
	char **argv; /* NULL-terminated */
	size_t argc;
};

#define CMDLINE_WHY_MAX 128

/* Split s into out. Returns 0, -ENOMEM, or -EINVAL with why[] saying what
 * is wrong (e.g. "specifier %i is not supported (write %% for a %)");
 * *out is then empty. */
int cmdline_split(const char *s, struct cmdline *out, char why[static CMDLINE_WHY_MAX]);
void cmdline_clear(struct cmdline *c);
