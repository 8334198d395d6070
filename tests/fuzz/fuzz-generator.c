/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: arbitrary bytes as the namespace file fz.ini, next to
 * a fixed valid a.ini, through the whole generator into a fresh directory.
 *
 * Beyond "no crash, no leak, no UB", it checks what the generator promises
 * whatever the input: every file starts with the generated-by line and is
 * printable ASCII; every line is empty, a comment, a section header or a
 * setting the generator writes; every confined unit's drop-in resolves to
 * a file that puts it into /run/netns/N (and PrivateNetwork=, never
 * written, would fail the line check); and every unit that fz.ini's parse
 * yields (listed, a socket or service that goes with one, or salvaged from
 * a broken file) has a drop-in that puts it into a namespace. */
#include <assert.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "generate.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known_keys[] = {
	"SourcePath", "RequiresMountsFor", "BindsTo", "After", "Wants", "NetworkNamespacePath",
	"TemporaryFileSystem", "BindReadOnlyPaths", "InaccessiblePaths", "CapabilityBoundingSet",
	"RestrictNamespaces", "RestrictAddressFamilies", "NoNewPrivileges", "PrivateTmp", "PrivateDevices",
	"ProtectSystem", "ProtectHome", "ProtectKernelTunables", "ProtectKernelModules",
	"ProtectKernelLogs", "ProtectControlGroups", "ProtectHostname", "RestrictSUIDSGID",
	"RestrictRealtime", "LockPersonality", "SystemCallArchitectures", "ExecStart",
	"ExecStartPre", "Description", "Documentation", "Type", "DefaultDependencies", "Requires",
	"Before", "Conflicts", "ReadWritePaths", "ReadOnlyPaths",
	/* nsswitch.conf */
	"passwd:    files systemd", "group:     files systemd", "shadow:    files",
	"gshadow:   files", "hosts:     files dns", "networks:  files", "protocols: files",
	"services:  files", "ethers:    files", "rpc:       files", "netgroup:  files",
};

static void check_line(const char *line, size_t len) {
	const char *eq;
	bool known = false;

	if (len == 0 || line[0] == '#')
		return;
	if (line[0] == '[') {
		assert((len == 6 && !memcmp(line, "[Unit]", 6)) || (len == 9 && !memcmp(line, "[Service]", 9)) ||
		       (len == 8 && !memcmp(line, "[Socket]", 8)));
		return;
	}
	eq = memchr(line, '=', len);
	for (size_t i = 0; i < ELEMENTSOF(known_keys); i++) {
		size_t k = strlen(known_keys[i]);
		if (eq && (size_t)(eq - line) == k && !memcmp(line, known_keys[i], k))
			known = true;
		if (!eq && len == k && !memcmp(line, known_keys[i], k))
			known = true;
	}
	assert(known);
	/* Only the error commands carry text from the input, escaped. */
	if (eq && ((size_t)(eq - line) == 9 && !memcmp(line, "ExecStart", 9)) && eq[1])
		assert(strstr(line, " config-error "));
}

static int check_file(const char *path, const struct stat *st, int type, struct FTW *f) {
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (type != FTW_F)
		return 0;
	assert(read_file_capped(path, 1 << 20, &text, &len) == 0);
	assert(strncmp(text, GENERATED_HEADER, strlen(GENERATED_HEADER)) == 0);
	for (size_t i = 0; i < len; i++)
		assert(text[i] == '\n' || (text[i] >= 0x20 && text[i] < 0x7f));
	for (char *l = text, *e; *l; l = e + 1) {
		e = strchr(l, '\n');
		assert(e); /* every line ends with a newline */
		check_line(l, (size_t)(e - l));
	}
	return 0;
}

static int check_dropin(const char *path, const struct stat *st, int type, struct FTW *f) {
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	const char *base = path + f->base;

	if (type != FTW_SL || !streq(base, CONFINEMENT_DROPIN))
		return 0;
	assert(read_file_capped(path, 1 << 20, &text, &len) == 0); /* follows the link */
	assert(strstr(text, "\nNetworkNamespacePath=/run/netns/"));
	return 0;
}

/* Every unit of fz.ini, as the parser reads it alone, has a drop-in that
 * puts it into a namespace: fz's, a's (a clash), or one that never exists
 * (never for fz.ini, whose name is valid, but the check does not care). */
static void check_units(const char *out, const char *fz) {
	struct ns_config *c = NULL;
	struct diag d = { 0 };
	int r;

	r = ns_config_load_file(fz, &c, &d);
	assert((r == 0 || r == -EINVAL) && c);
	for (size_t i = 0; i < c->n_units; i++) {
		_cleanup_free_ char *p = NULL, *t = NULL;
		size_t len;

		assert(asprintf(&p, "%s/%s.d/" CONFINEMENT_DROPIN, out, c->units[i].name) > 0);
		assert(read_file_capped(p, 1 << 20, &t, &len) == 0);
		assert(strstr(t, "\nNetworkNamespacePath=/run/netns/"));
	}
	ns_config_free(c);
	diag_clear(&d);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *f) {
	return remove(path) < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static const char a_ini[] = "[Namespace]\nWireGuardConfigFile=/etc/vpn-confinement/a.conf\n"
				    "PortMapping=9091:9091\n[Confinement]\nUnit=transmission.service\n";
	char base[] = "/tmp/vc-fuzz-gen.XXXXXX";
	_cleanup_free_ char *conf = NULL, *out = NULL, *fz = NULL, *a = NULL;
	struct diag d = { 0 };
	struct gen_stats stats;
	struct gen_paths paths;
	FILE *f;
	int out_fd, r;

	assert(mkdtemp(base));
	assert(asprintf(&conf, "%s/conf", base) > 0 && asprintf(&out, "%s/out", base) > 0);
	assert(asprintf(&fz, "%s/fz.ini", conf) > 0 && asprintf(&a, "%s/a.ini", conf) > 0);
	assert(mkdir(conf, 0755) == 0 && mkdir(out, 0755) == 0);
	assert((f = fopen(fz, "w")) && fwrite(data, 1, size, f) == size && fclose(f) == 0);
	assert((f = fopen(a, "w")) && fputs(a_ini, f) >= 0 && fclose(f) == 0);

	paths = (struct gen_paths){ .out_dir = out, .conf_dir = conf, .run_dir = "/run/vpn-confinement",
				    .helper = "/usr/bin/vpn-confinement",
				    .unit_dir = "/usr/lib/systemd/system" };
	out_fd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert(out_fd >= 0);
	r = generate(&paths, out_fd, &d, &stats, NULL, NULL);
	close(out_fd);
	assert(r == 0 || r == -EINVAL); /* never a write error here */
	assert((r == 0) == (d.n_errors == 0));
	assert(stats.namespaces == 2); /* fz.ini is a valid name: always written */

	assert(nftw(out, check_file, 16, FTW_PHYS) == 0);
	assert(nftw(out, check_dropin, 16, FTW_PHYS) == 0);
	check_units(out, fz);

	diag_clear(&d);
	assert(nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
	return 0;
}
