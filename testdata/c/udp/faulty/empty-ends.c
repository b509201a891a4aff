/*
 * empty-ends.c - FAULTY: a zero-length datagram ends the server.
 *
 * Fault (recvfrom() returning 0 taken for the end): the loop is the TCP
 * idiom `while ((n = recvfrom(...)) > 0)`.  For UDP, 0 is a valid empty
 * datagram, not an end of stream: the first empty datagram ends the loop
 * and the server exits without echoing it.
 *
 * Must be caught by: the boundary sizes (0 bytes: no reply, and nothing
 * after it).
 * In the udp/ catalogue: udp/empty-datagram and udp/server-alive.
 *
 * Otherwise a sound recvfrom()/sendto() loop.
 * Build: gcc -Wall -Wextra -O2 -o empty-ends empty-ends.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[65536];
	struct sockaddr_in addr, from;
	socklen_t fromlen = sizeof from;
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
	while ((n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen)) > 0) {
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0)
			perror("sendto");
		fromlen = sizeof from;
	}
	if (n < 0)
		perror("recvfrom");
	close(fd);
	return 0;
}
