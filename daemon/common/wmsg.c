/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Messages between the master and a worker: one fixed-size struct wmsg per
 * SOCK_SEQPACKET record, with sockets attached as SCM_RIGHTS.  Every
 * record is checked for version and size on arrival.
 */
#include "acconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/wmsg.h"

int
wmsg_send(int fd, enum wmsg_type type, int status, const int *fds,
    size_t nfds, const char *fmt, ...)
{
	struct wmsg	 msg;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	char		 cbuf[CMSG_SPACE(sizeof(int) * WMSG_MAX_FDS)];
	va_list		 ap;
	ssize_t		 sent;

	if (nfds > WMSG_MAX_FDS)
		return -E2BIG;
	memset(&msg, 0, sizeof(msg));
	msg.version = WMSG_VERSION;
	msg.type = type;
	msg.status = status;
	msg.nfds = (uint32_t)nfds;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg.text, sizeof(msg.text), fmt, ap);
		va_end(ap);
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &msg;
	iov.iov_len = sizeof(msg);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	do
		sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (sent == -1 && errno == EINTR);
	if (sent == -1)
		return -errno;
	return sent == (ssize_t)sizeof(msg) ? 0 : -EPROTO;
}

static void
wmsg_close_fds(const struct msghdr *mh)
{
	struct cmsghdr	*cmsg;
	size_t		 i, n;
	int		 fd;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR((struct msghdr *)mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(fd));
			close(fd);
		}
	}
}

/*
 * Receives one message.  Returns its size, 0 at EOF, or -errno; -EPROTO
 * for a record that is not a whole, current-version message, -EMFILE when
 * the descriptors it carried could not all be received (any it carried
 * are closed).
 */
ssize_t
wmsg_recv(int fd, struct wmsg *msg, int *fds, size_t maxfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	char		 cbuf[CMSG_SPACE(sizeof(int) * WMSG_MAX_FDS)];
	ssize_t		 got;
	size_t		 n = 0;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = msg;
	iov.iov_len = sizeof(*msg);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (got == -1 && errno == EINTR);
	if (got <= 0)
		return got == 0 ? 0 : -errno;
	/* Room for every descriptor a sender may attach: the receiver had none. */
	if (mh.msg_flags & MSG_CTRUNC) {
		wmsg_close_fds(&mh);
		return -EMFILE;
	}
	if (got != (ssize_t)sizeof(*msg) || msg->version != WMSG_VERSION ||
	    (mh.msg_flags & MSG_TRUNC))
		goto bad;
	cmsg = CMSG_FIRSTHDR(&mh);
	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS)
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (n != msg->nfds || n > maxfds)
		goto bad;
	if (n > 0)
		memcpy(fds, CMSG_DATA(cmsg), n * sizeof(int));
	msg->text[sizeof(msg->text) - 1] = '\0';
	return got;
bad:
	wmsg_close_fds(&mh);
	return -EPROTO;
}
