/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The enumerations the configuration shares with the modules that act on
 * it (logging, listeners, handlers, steering, IRQ spreading), kept apart
 * so that none of their headers needs another's for a type, and their
 * names as the configuration file and the outputs spell them (enums.c).
 */
#ifndef AFFINITYD_ENUMS_H
#define AFFINITYD_ENUMS_H

/* Syslog priorities, so that a level is also a journal <N> prefix. */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/*
 * topology.steering: how a reuseport group hands flows to its sockets;
 * "auto" is resolved by the steering self-test.
 */
enum steering {
	STEERING_INCOMING_CPU,
	STEERING_NONE,
	STEERING_CBPF,
	STEERING_AUTO,
};

/* listeners[].protocol */
enum listen_proto {
	LISTEN_TCP,
	LISTEN_UDP,
};

/* topology.irq_affinity */
enum irq_affinity_mode {
	IRQ_AFFINITY_KEEP,
	IRQ_AFFINITY_SPREAD,
};

/* enums.c */
const char	*listen_proto_name(enum listen_proto proto);
const char	*steering_name(enum steering steering);
const char	*irq_affinity_name(enum irq_affinity_mode mode);

#endif
