/*
 * small-buffer.c - FAULTY: a 512-byte buffer for datagrams of any size.
 *
 * Fault (the rest of a large datagram is silently cut): recvfrom() with a
 * 512-byte buffer keeps the first 512 bytes of a larger datagram and the
 * kernel discards the rest without a word (no MSG_TRUNC check).  Small
 * datagrams pass; a 1472-byte one comes back as 512 bytes.
 *
 * Must be caught by: the boundary sizes (1472, 8192 and 65507 bytes) and
 * the burst (datagrams up to 1472 bytes).
 * In the udp/ catalogue: udp/sizes, udp/max-datagram and udp/burst.
 *
 * Otherwise a sound recvfrom()/sendto() loop.
 * Build: gcc -Wall -Wextra -O2 -o small-buffer small-buffer.c
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

#define BUFLEN 512 /* plenty for a message */

int main(int argc, char **argv)
{
	char buf[BUFLEN];
	struct sockaddr_in me, other;
	socklen_t slen;
	int s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	if ((s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)) == -1) {
		perror("socket");
		return 1;
	}
	memset(&me, 0, sizeof me);
	me.sin_family = AF_INET;
	me.sin_port = htons(atoi(argv[1]));
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&me, sizeof me) == -1) {
		perror("bind");
		return 1;
	}
	while (1) {
		ssize_t recv_len;

		slen = sizeof other;
		recv_len = recvfrom(s, buf, BUFLEN, 0, (struct sockaddr *)&other, &slen);
		if (recv_len == -1) {
			if (errno != EINTR)
				perror("recvfrom");
			continue;
		}
		if (sendto(s, buf, recv_len, 0, (struct sockaddr *)&other, slen) == -1)
			perror("sendto");
	}
}
