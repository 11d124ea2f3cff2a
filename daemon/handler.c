/*
 * The table of protocol handlers: which names exist and which transports
 * each one serves.
 */
#include "acconfig.h"

#include <string.h>

#include "handler.h"

static const struct {
	const char	*name;
	int		 tcp;
	int		 udp;
} handler_table[] = {
	{ "echo", 1, 1 },
	{ "discard", 1, 1 },
	{ "info", 1, 1 },
	{ "http", 1, 0 },
};

int
handler_exists(const char *name)
{
	size_t	 i;

	for (i = 0; i < ARRAY_SIZE(handler_table); i++)
		if (strcmp(handler_table[i].name, name) == 0)
			return 1;
	return 0;
}

int
handler_supports(const char *name, enum listen_proto proto)
{
	size_t	 i;

	for (i = 0; i < ARRAY_SIZE(handler_table); i++)
		if (strcmp(handler_table[i].name, name) == 0)
			return proto == LISTEN_TCP ? handler_table[i].tcp :
			    handler_table[i].udp;
	return 0;
}
