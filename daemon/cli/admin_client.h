/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The admin socket's client, which "affinityd status" and "affinityd
 * reload" use: one command, one JSON answer (see common/admin_proto.h),
 * from a server it trusts.
 */
#ifndef AFFINITYD_ADMIN_CLIENT_H
#define AFFINITYD_ADMIN_CLIENT_H

#include <jansson.h>

/*
 * admin_client.c
 *
 * Sends COMMAND and reads the JSON object that answers it into *reply,
 * waiting SECONDS for each step (0: forever; ADMIN_TIMEOUT, or longer for
 * "reload --wait").  Returns 0; -1 when the daemon answered {"error":
 * ...}, whose text is then *why and whose code (an ADMIN_CODE_*, 0 when
 * the daemon sent none) *code, unless code is NULL; or another -errno
 * when no answer could be had (-ENOENT and -ECONNREFUSED: not running,
 * -ETIMEDOUT, -EPROTO: not JSON), with a message naming PATH in *why.
 * *why is malloc'd.
 */
int	 admin_request(const char *path, const char *command, double seconds,
	    json_t **reply, char **why, int *code);

#endif
