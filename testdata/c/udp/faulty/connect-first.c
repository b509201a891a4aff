/*
 * connect-first.c - FAULTY: connect()s the socket to the first client.
 *
 * Fault (serves no one else): after the first datagram the author calls
 * connect() on the socket with the client's address, to use plain send()
 * and recv() from then on ("a connected UDP socket is faster").  A
 * connected UDP socket only receives datagrams from its peer: the kernel
 * drops every other client's datagrams, so they never get a reply.
 *
 * Must be caught by: two clients on different ports (the second gets no
 * reply), the burst, and the closed clients (connected to a client that is
 * gone, it answers nobody).
 * In the udp/ catalogue: udp/reply-to-sender and udp/burst.
 *
 * Otherwise a sound echo loop.
 * Build: gcc -Wall -Wextra -O2 -o connect-first connect-first.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536

int main(int argc, char **argv)
{
	static char buf[BUF_SIZE];
	struct sockaddr_in addr, client;
	socklen_t len = sizeof client;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		return 1;
	}

	/* Wait for the client, then talk to it directly. */
	n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&client, &len);
	if (n < 0) {
		perror("recvfrom");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&client, len) < 0) {
		perror("connect");
		return 1;
	}
	for (;;) {
		if (n >= 0 && send(fd, buf, (size_t)n, 0) < 0)
			perror("send");
		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno != EINTR)
			perror("recv");
	}
}
