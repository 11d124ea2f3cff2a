/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The names of the shared enumerations (common/enums.h), as the
 * configuration file and the outputs spell them.
 */
#include "acconfig.h"

#include "common/enums.h"

const char *
listen_proto_name(enum listen_proto proto)
{
	return proto == LISTEN_UDP ? "udp" : "tcp";
}

const char *
steering_name(enum steering steering)
{
	switch (steering) {
	case STEERING_NONE:
		return "none";
	case STEERING_CBPF:
		return "cbpf";
	case STEERING_AUTO:
		return "auto";
	default:
		return "incoming-cpu";
	}
}

const char *
irq_affinity_name(enum irq_affinity_mode mode)
{
	return mode == IRQ_AFFINITY_SPREAD ? "spread" : "keep";
}
