/*
 * recvfrom-server.c - the classic UDP echo server (RFC 862): a
 * recvfrom()/sendto() loop.
 *
 * Usage: recvfrom-server PORT
 *
 * Binds 127.0.0.1:PORT and sends every datagram back to the address and
 * port it came from, with exactly the length recvfrom() returned.
 *
 * Correctness points, each one a classic student bug elsewhere in the
 * gallery (testdata/c/udp/faulty/):
 *   - the buffer holds the largest IPv4 datagram (65507 bytes), so nothing
 *     is cut;
 *   - the data is bytes, never a C string;
 *   - the reply goes to the address recvfrom() filled in for this
 *     datagram, never to one remembered from an earlier datagram, and the
 *     socket is never connect()ed;
 *   - a zero-length datagram is a datagram: recvfrom() returning 0 is
 *     echoed, not taken for the end of anything;
 *   - errors of recvfrom() and sendto() (EINTR, or ECONNREFUSED where the
 *     system reports an earlier reply's ICMP port unreachable) are
 *     reported and the loop goes on.
 *   - a 4 MiB SO_RCVBUF lets a burst wait in the kernel.
 *
 * Build: gcc -Wall -Wextra -O2 -o recvfrom-server recvfrom-server.c
 * Expected: every datagram comes back once, unchanged, to its sender.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_DATAGRAM 65507

static int bind_udp(const char *port_arg)
{
	struct sockaddr_in addr;
	char *end;
	long port;
	int fd, rcvbuf = 4 << 20;

	port = strtol(port_arg, &end, 10);
	if (*port_arg == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "recvfrom-server: bad port %s\n", port_arg);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
		perror("setsockopt SO_RCVBUF"); /* a smaller buffer still works */
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static char buf[MAX_DATAGRAM];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	fd = bind_udp(argv[1]);
	if (fd < 0)
		return 1;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof peer;
		ssize_t n;

		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &peerlen);
		if (n < 0) {
			if (errno != EINTR)
				perror("recvfrom");
			continue;
		}
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peerlen) < 0) {
			if (errno != EINTR)
				perror("sendto");
		}
	}
}
