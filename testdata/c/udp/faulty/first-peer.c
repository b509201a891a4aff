/*
 * first-peer.c - FAULTY: replies to the first client's address forever.
 *
 * Fault (replies to a remembered address): the author fills in the
 * client's address only once, on the first datagram ("we already know who
 * we talk to"), and later calls recvfrom() with NULL for the address.
 * The first client gets its own echoes, and everyone else's too; every
 * other client gets nothing.
 *
 * Must be caught by: two clients on different ports (the second gets no
 * reply, the first gets the second's datagrams), the burst, and the
 * closed clients (once the first client is gone, nobody gets a reply).
 * In the udp/ catalogue: udp/reply-to-sender and udp/burst.
 *
 * Otherwise a sound recvfrom()/sendto() loop.
 * Build: gcc -Wall -Wextra -O2 -o first-peer first-peer.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXLINE 65536

int main(int argc, char **argv)
{
	static char buf[MAXLINE];
	struct sockaddr_in servaddr, cliaddr;
	socklen_t clilen = sizeof cliaddr;
	int sockfd, have_client = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		exit(1);
	}
	sockfd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons(atoi(argv[1]));
	if (bind(sockfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0) {
		perror("bind");
		exit(1);
	}
	for (;;) {
		ssize_t n;

		if (!have_client) {
			n = recvfrom(sockfd, buf, MAXLINE, 0, (struct sockaddr *)&cliaddr, &clilen);
			have_client = n >= 0;
		} else {
			n = recvfrom(sockfd, buf, MAXLINE, 0, NULL, NULL);
		}
		if (n < 0) {
			perror("recvfrom");
			continue;
		}
		if (sendto(sockfd, buf, n, 0, (struct sockaddr *)&cliaddr, clilen) < 0)
			perror("sendto");
	}
}
