/*
 * exit-on-error.c - FAULTY: exits on any error of recvfrom() or sendto().
 *
 * Fault (dies on ECONNREFUSED): the author asked for ICMP errors with
 * IP_RECVERR ("so that I see when a client is unreachable") and treats
 * every error as fatal, as in the TCP exercises.  When a client closes its
 * port before its reply arrives, the reply draws an ICMP port unreachable,
 * and the socket's next call (recvfrom() or sendto(), for another client)
 * fails with ECONNREFUSED: the server exits and serves no one ever again.
 * (Linux reports such errors on an unconnected UDP socket only with
 * IP_RECVERR; other systems, Windows among them, report them anyway.)
 *
 * Must be caught by: the closed clients (the next live client gets no
 * reply, and the process has exited).
 * In the udp/ catalogue: udp/gone-client and udp/server-alive.
 *
 * Otherwise a sound recvfrom()/sendto() loop.
 * Build: gcc -Wall -Wextra -O2 -o exit-on-error exit-on-error.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSIZE 65536

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	static char buf[BUFSIZE];
	struct sockaddr_in addr, peer;
	socklen_t peerlen;
	int fd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 1;
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		die("socket");
	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on) < 0)
		die("setsockopt IP_RECVERR");
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("bind");
	for (;;) {
		ssize_t n;

		peerlen = sizeof peer;
		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &peerlen);
		if (n < 0)
			die("recvfrom");
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, peerlen) < 0)
			die("sendto");
	}
}
