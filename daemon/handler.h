/*
 * Protocol handlers.  Each protocol is one handler_*.c file that fills in
 * a struct handler; the table in handler.c is the only list of them.
 */
#ifndef AFFINITYD_HANDLER_H
#define AFFINITYD_HANDLER_H

#include "config.h"

/* handler.c */
int	 handler_exists(const char *name);
int	 handler_supports(const char *name, enum listen_proto proto);

#endif
