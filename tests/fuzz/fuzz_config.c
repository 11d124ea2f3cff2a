/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration loader: the input is a file in a scratch directory
 * that also holds files to @include (relative paths resolve there), and
 * loading it must give a configuration or FILE:LINE errors, never a
 * crash, an exit or a hang; the admin socket peek must cope as well.
 * The @include expansion must leave no @include in the text libconfig
 * reads, and map each of its lines to a line of a file that was read.
 */
#include "acconfig.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_file.h"
#include "fuzz.h"
#include "common/util.h"
#include "worker/handler.h"

static const struct {
	const char	*name;
	const char	*text;
} fuzz_includes[] = {
	{ "daemon.conf", "daemon = { log_level = \"debug\"; "
	    "max_connections = 100; };\n" },
	{ "listeners.conf", "{ name = \"e\"; protocol = \"tcp\"; "
	    "address = \"127.0.0.1\"; port = 7777; handler = \"echo\"; },\n" },
	{ "sub/topology.conf", "topology = { workers = \"cpus\"; };\n" },
	{ "bad.conf", "daemon = { log_level = 7; \n" },
	{ "empty.conf", "" },
	{ "self.conf", "k = 1;\n@include \"self.conf\"\n" },
	{ "open.conf", "a = \"x\n" },
	{ "nonl.conf", "b = 2; // no newline" },
	{ "nest.conf", "/* */ @include \"nonl.conf\"\n@include \"nest2.conf\"\n" },
	{ "nest2.conf", "\n\n c = 3;\n@include \"sub/topology.conf\"\n" },
};

static char	 fuzz_conf_dir[PATH_MAX];
static char	 fuzz_conf_path[PATH_MAX + 16];

static void
fuzz_config_init(void)
{
	size_t	 i;

	snprintf(fuzz_conf_dir, sizeof(fuzz_conf_dir), "%s/conf",
	    fuzz_scratch());
	if (mkdir(fuzz_conf_dir, 0755) == -1)
		abort();
	for (i = 0; i < sizeof(fuzz_includes) / sizeof(fuzz_includes[0]); i++)
		if (fuzz_write(fuzz_conf_dir, fuzz_includes[i].name,
		    fuzz_includes[i].text, strlen(fuzz_includes[i].text)) < 0)
			abort();
	snprintf(fuzz_conf_path, sizeof(fuzz_conf_path), "%s/main.conf",
	    fuzz_conf_dir);
}

/*
 * The expanded text has no @include at a line's start (one in a string
 * or comment is only text) and each of its lines maps to a file's line.
 */
static void
fuzz_check_expansion(void)
{
	struct config_file	 cf;
	const char		*p, *file;
	unsigned int		 line = 1, file_line;

	if (config_file_read(fuzz_conf_path, &cf, NULL) == 0) {
		for (p = cf.text; *p != '\0'; p++) {
			if (p == cf.text || p[-1] == '\n') {
				file = config_file_where(&cf, line, &file_line);
				if (file == NULL || file_line == 0)
					abort();
			}
			line += *p == '\n';
		}
		if (cf.len != strlen(cf.text))
			abort();
	}
	config_file_free(&cf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*conf = NULL;
	struct strv	 errors = { 0 };
	char		*peek;
	size_t		 i;
	int		 cwd, r;

	if (fuzz_conf_dir[0] == '\0')
		fuzz_config_init();
	if (fuzz_write(fuzz_conf_dir, "main.conf", data, size) < 0)
		abort();
	/* Relative @include paths are taken from the working dir. */
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    chdir(fuzz_conf_dir) == -1)
		abort();
	r = config_load(fuzz_conf_path, &handler_catalogue, &conf, &errors);
	if ((r == 0) != (conf != NULL) || (r != 0 && errors.n == 0))
		abort();
	/* Errors name a file and a line: "FILE:LINE: ...". */
	for (i = 0; i < errors.n; i++)
		if (strstr(errors.v[i], ".conf:") == NULL &&
		    strchr(errors.v[i], ':') == NULL)
			abort();
	config_free(conf);
	strv_free(&errors);
	peek = config_peek_admin_socket(fuzz_conf_path);
	free(peek);
	fuzz_check_expansion();
	if (fchdir(cwd) == -1)
		abort();
	close(cwd);
	return 0;
}
