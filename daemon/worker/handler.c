/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The table of protocol handlers: the only list of them, used to find a
 * listener's handler and to check a configuration against what each one
 * serves.
 */
#include "acconfig.h"

#include <errno.h>
#include <string.h>

#include "config/config.h"
#include "worker/handler.h"
#include "common/util.h"

static const struct handler *const handler_table[] = {
	&handler_echo,
	&handler_discard,
	&handler_info,
	&handler_http,
};

const struct handler *
handler_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < ARRAY_SIZE(handler_table); i++)
		if (strcmp(handler_table[i]->name, name) == 0)
			return handler_table[i];
	return NULL;
}

static int
handler_caps(const char *name, struct config_handler_caps *caps)
{
	const struct handler	*h;

	if ((h = handler_find(name)) == NULL)
		return -ENOENT;
	caps->tcp = h->tcp;
	caps->udp = h->udp;
	caps->speaks_first = h->speaks_first;
	return 0;
}

const struct config_handlers handler_catalogue = {
	.find = handler_caps,
};
