/*
 * recvmsg-server.c - a UDP echo server (RFC 862) in another style: a
 * select() loop around recvmsg()/sendmsg(), the shape of servers that
 * also watch other descriptors.
 *
 * Usage: recvmsg-server PORT
 *
 * Binds INADDR_ANY:PORT.  When select() says the socket is readable, it
 * drains every datagram waiting (non-blocking, until EAGAIN) and sends
 * each back with sendmsg() to the msg_name recvmsg() filled in.
 *
 * Correctness points:
 *   - the buffer holds 65536 bytes, and MSG_TRUNC in msg_flags would say
 *     if a datagram had ever been cut (it cannot be);
 *   - msg_name and msg_namelen are reset before every recvmsg(), so each
 *     reply goes to its own datagram's sender;
 *   - a zero-length datagram is echoed as one;
 *   - ECONNREFUSED and other errors reported for an earlier datagram are
 *     logged and the loop goes on; a reply that could not be sent because
 *     the socket buffer was full (EAGAIN) is dropped, as UDP may.
 *
 * It keeps the system's default receive buffer, as most servers do, so a
 * burst loses datagrams in the kernel: legal for UDP, and the burst check
 * resends them.
 *
 * Build: gcc -Wall -Wextra -O2 -o recvmsg-server recvmsg-server.c
 * Expected: every datagram comes back once, unchanged, to its sender.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static char buf[65536];

/* echo_pending answers every datagram waiting on fd. */
static void echo_pending(int fd)
{
	for (;;) {
		struct sockaddr_storage peer;
		struct iovec iov = { buf, sizeof buf };
		struct msghdr msg;
		ssize_t n;

		memset(&msg, 0, sizeof msg);
		msg.msg_name = &peer;
		msg.msg_namelen = sizeof peer;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		n = recvmsg(fd, &msg, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno != EINTR)
				perror("recvmsg");
			continue;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			fprintf(stderr, "recvmsg-server: datagram truncated, not echoed\n");
			continue;
		}
		iov.iov_len = (size_t)n;
		if (sendmsg(fd, &msg, 0) < 0 && errno != EAGAIN)
			perror("sendmsg");
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		return 1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		perror("fcntl");
		return 1;
	}
	for (;;) {
		fd_set rd;

		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, NULL) < 0) {
			if (errno != EINTR)
				perror("select");
			continue;
		}
		if (FD_ISSET(fd, &rd))
			echo_pending(fd);
	}
}
