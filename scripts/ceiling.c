/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ceiling: the smallest steered server scripts/bench can think of, run
 * beside affinityd as the ceiling of its table, not as a product.  One
 * process per CPU given, pinned there, each with its own SO_REUSEPORT TCP
 * and UDP sockets whose SO_INCOMING_CPU is that CPU, one epoll loop: TCP
 * answers every "\r\n\r\n" it reads with a fixed HTTP answer in one
 * send() (closing after it when the request says "Connection: close"),
 * UDP echoes each datagram.  No limits, no counters, no shutdown.
 *
 * usage: ceiling ADDRESS TCP-PORT UDP-PORT CPU[,CPU...]
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
		"Content-Length: 3\r\n\r\nok\n"
#define MAX_PIPELINE	64

static struct sockaddr_in	 addr;

static int
open_socket(int type, int port, int cpu)
{
	struct sockaddr_in	 sin = addr;
	int			 fd, on = 1;

	sin.sin_port = htons((unsigned short)port);
	if ((fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu,
	    sizeof(cpu)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 4096) == -1)) {
		perror("ceiling: socket");
		exit(71);
	}
	return fd;
}

static void
serve_tcp(int ep, int fd)
{
	static char	 answers[MAX_PIPELINE * sizeof(ANSWER)];
	char		 buf[16384], *p;
	ssize_t		 n;
	size_t		 len;
	int		 reqs = 0, close_after;

	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
		return;
	}
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "\r\n\r\n")) != NULL &&
	    reqs < MAX_PIPELINE; p += 4)
		reqs++;
	close_after = strcasestr(buf, "connection: close") != NULL;
	len = (size_t)reqs * (sizeof(ANSWER) - 1);
	if (answers[0] == '\0')
		for (p = answers; p < answers + sizeof(answers) -
		    sizeof(ANSWER); p += sizeof(ANSWER) - 1)
			memcpy(p, ANSWER, sizeof(ANSWER) - 1);
	if (len > 0 && send(fd, answers, len, MSG_NOSIGNAL) == -1)
		close_after = 1;
	if (close_after) {
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		close(fd);
	}
}

static void
serve_udp(int fd)
{
	struct mmsghdr		 m[32];
	struct iovec		 iov[32];
	struct sockaddr_in	 peer[32];
	static char		 buf[32][2048];
	int			 i, n;

	for (i = 0; i < 32; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_name = &peer[i];
		m[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	if ((n = recvmmsg(fd, m, 32, MSG_DONTWAIT, NULL)) <= 0)
		return;
	for (i = 0; i < n; i++)
		iov[i].iov_len = m[i].msg_len;
	sendmmsg(fd, m, (unsigned int)n, MSG_DONTWAIT);
}

static void
worker(int cpu, int tport, int uport)
{
	struct epoll_event	 ev, evs[256];
	cpu_set_t		 set;
	int			 ep, lfd, ufd, fd, n, i;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == -1) {
		perror("ceiling: sched_setaffinity");
		exit(71);
	}
	lfd = open_socket(SOCK_STREAM, tport, cpu);
	ufd = open_socket(SOCK_DGRAM, uport, cpu);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("ceiling: epoll_create1");
		exit(71);
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = ufd;
	epoll_ctl(ep, EPOLL_CTL_ADD, ufd, &ev);
	for (;;) {
		if ((n = epoll_wait(ep, evs, 256, -1)) == -1)
			continue;
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == ufd) {
				serve_udp(ufd);
				continue;
			}
			if (evs[i].data.fd != lfd) {
				serve_tcp(ep, evs[i].data.fd);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
				ev.data.fd = fd;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
					close(fd);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	char	*p, *end;
	long	 cpu;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "usage: ceiling ADDRESS TCP-PORT UDP-PORT "
		    "CPU[,CPU...]\n");
		return 64;
	}
	addr.sin_family = AF_INET;
	for (p = argv[4]; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		cpu = strtol(p, &end, 10);
		if (end == p || cpu < 0 || cpu >= CPU_SETSIZE) {
			fprintf(stderr, "ceiling: %s: not a CPU list\n",
			    argv[4]);
			return 64;
		}
		switch (fork()) {
		case -1:
			perror("ceiling: fork");
			return 71;
		case 0:
			worker((int)cpu, atoi(argv[2]), atoi(argv[3]));
			return 0;
		}
	}
	/* The workers die with the group the bench kills. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
