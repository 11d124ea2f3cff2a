/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * udpload: the UDP load generator of scripts/bench.  One thread per CPU
 * given, each pinned there, each with its own connected sockets (so that
 * plain SO_REUSEPORT hashing spreads them over a server's workers), each
 * socket keeping DEPTH datagrams in flight: every answer received sends
 * the next datagram.  A socket that has heard nothing for a while resends
 * its window, so a lost datagram does not end its flow.
 *
 * usage: udpload HOST PORT SECONDS CPU[,CPU...] [SOCKETS [DEPTH [SIZE]]]
 * prints: answers=N sent=N seconds=S rate=N/s
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UDPLOAD_MAX_THREADS	256
#define UDPLOAD_RESEND_NS	(50 * 1000000ull)

struct udpload {
	struct sockaddr_in	 to;
	double			 seconds;
	int			 nsock;
	int			 depth;
	size_t			 size;
};

struct worker {
	const struct udpload	*ul;
	pthread_t		 thread;
	int			 cpu;
	unsigned long long	 answers;
	unsigned long long	 sent;
	int			 failed;
};

static unsigned long long
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull +
	    (unsigned long long)ts.tv_nsec;
}

/* Sends n datagrams on fd; counts those the kernel took. */
static void
send_some(struct worker *w, int fd, const char *buf, int n)
{
	while (n-- > 0) {
		if (send(fd, buf, w->ul->size, MSG_DONTWAIT) == -1)
			return;
		w->sent++;
	}
}

static int
open_socket(struct worker *w, int ep, int i)
{
	struct epoll_event	 ev = { .events = EPOLLIN };
	int			 fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("udpload: socket");
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&w->ul->to,
	    sizeof(w->ul->to)) == -1) {
		perror("udpload: connect");
		close(fd);
		return -1;
	}
	ev.data.u64 = ((unsigned long long)i << 32) | (unsigned)fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		perror("udpload: epoll_ctl");
		close(fd);
		return -1;
	}
	return fd;
}

static void *
run(void *arg)
{
	struct worker		*w = arg;
	const struct udpload	*ul = w->ul;
	struct epoll_event	 evs[64];
	unsigned long long	*last, end, t;
	cpu_set_t		 set;
	char			 buf[65536], out[65536];
	int			*fds, ep, i, n, fd, k;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if ((errno = pthread_setaffinity_np(pthread_self(), sizeof(set),
	    &set)) != 0) {
		fprintf(stderr, "udpload: pin to CPU %d: %s\n", w->cpu,
		    strerror(errno));
		w->failed = 1;
		return NULL;
	}
	memset(out, 'x', ul->size);
	fds = calloc((size_t)ul->nsock, sizeof(*fds));
	last = calloc((size_t)ul->nsock, sizeof(*last));
	if (fds == NULL || last == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("udpload: set-up");
		w->failed = 1;
		free(fds);
		free(last);
		return NULL;
	}
	t = now_ns();
	for (i = 0; i < ul->nsock; i++) {
		if ((fds[i] = open_socket(w, ep, i)) == -1) {
			w->failed = 1;
			goto out;
		}
		send_some(w, fds[i], out, ul->depth);
		last[i] = t;
	}
	end = t + (unsigned long long)(ul->seconds * 1e9);
	while ((t = now_ns()) < end) {
		n = epoll_wait(ep, evs, 64, 10);
		if (n == -1 && errno != EINTR) {
			perror("udpload: epoll_wait");
			w->failed = 1;
			break;
		}
		for (k = 0; k < n; k++) {
			i = (int)(evs[k].data.u64 >> 32);
			fd = (int)(evs[k].data.u64 & 0xffffffffu);
			while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
				w->answers++;
				send_some(w, fd, out, 1);
				last[i] = t;
			}
		}
		for (i = 0; i < ul->nsock; i++)
			if (t - last[i] > UDPLOAD_RESEND_NS) {
				send_some(w, fds[i], out, ul->depth);
				last[i] = t;
			}
	}
out:
	for (i = 0; i < ul->nsock; i++)
		if (fds[i] > 0)
			close(fds[i]);
	close(ep);
	free(fds);
	free(last);
	return NULL;
}

static int
parse_cpus(const char *s, struct worker *w, int max)
{
	char	*end;
	long	 v;
	int	 n = 0;

	while (*s != '\0' && n < max) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || end == s || v < 0 || v >= CPU_SETSIZE ||
		    (*end != ',' && *end != '\0'))
			return -1;
		w[n++].cpu = (int)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int
main(int argc, char **argv)
{
	static struct worker	 w[UDPLOAD_MAX_THREADS];
	struct udpload		 ul;
	unsigned long long	 answers = 0, sent = 0;
	int			 n, i, failed = 0;

	if (argc < 5 || argc > 8) {
		fprintf(stderr, "usage: udpload HOST PORT SECONDS CPU[,CPU...] "
		    "[SOCKETS [DEPTH [SIZE]]]\n");
		return 64;
	}
	memset(&ul, 0, sizeof(ul));
	ul.to.sin_family = AF_INET;
	ul.to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &ul.to.sin_addr) != 1) {
		fprintf(stderr, "udpload: %s: not an IPv4 address\n", argv[1]);
		return 64;
	}
	ul.seconds = atof(argv[3]);
	ul.nsock = argc > 5 ? atoi(argv[5]) : 8;
	ul.depth = argc > 6 ? atoi(argv[6]) : 4;
	ul.size = argc > 7 ? (size_t)atoi(argv[7]) : 16;
	if (ul.seconds <= 0 || ul.nsock < 1 || ul.nsock > 4096 ||
	    ul.depth < 1 || ul.depth > 1024 || ul.size < 1 ||
	    ul.size > 65507) {
		fprintf(stderr, "udpload: bad SECONDS, SOCKETS, DEPTH or SIZE\n");
		return 64;
	}
	if ((n = parse_cpus(argv[4], w, UDPLOAD_MAX_THREADS)) <= 0) {
		fprintf(stderr, "udpload: %s: not a CPU list\n", argv[4]);
		return 64;
	}
	for (i = 0; i < n; i++) {
		w[i].ul = &ul;
		if ((errno = pthread_create(&w[i].thread, NULL, run,
		    &w[i])) != 0) {
			fprintf(stderr, "udpload: pthread_create: %s\n",
			    strerror(errno));
			return 71;
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		answers += w[i].answers;
		sent += w[i].sent;
		failed |= w[i].failed;
	}
	printf("answers=%llu sent=%llu seconds=%.3f rate=%.0f\n", answers,
	    sent, ul.seconds, (double)answers / ul.seconds);
	return failed ? 71 : 0;
}
