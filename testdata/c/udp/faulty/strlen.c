/*
 * strlen.c - FAULTY: treats each datagram as a C string.
 *
 * Fault (NUL bytes cut the datagram short): the author NUL-terminates what
 * recvfrom() returned and sends strlen(buf) bytes back, a habit from
 * string exercises.  Text comes back intact; a datagram with a NUL byte
 * comes back cut at its first NUL (a datagram that starts with one comes
 * back empty).
 *
 * Must be caught by: the boundary sizes and the burst (random binary
 * payloads), and every byte value (the reply ends at the NUL).
 * In the udp/ catalogue: udp/all-byte-values, udp/sizes and udp/burst.
 *
 * Otherwise a sound recvfrom()/sendto() loop.
 * Build: gcc -Wall -Wextra -O2 -o strlen strlen.c
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536

int main(int argc, char **argv)
{
	static char buffer[BUF_SIZE];
	struct sockaddr_in server, client;
	socklen_t len;
	int sock;
	ssize_t n;

	if (argc != 2) {
		printf("Usage: %s <port>\n", argv[0]);
		return 1;
	}
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0) {
		perror("socket");
		return 1;
	}
	memset(&server, 0, sizeof server);
	server.sin_family = AF_INET;
	server.sin_addr.s_addr = htonl(INADDR_ANY);
	server.sin_port = htons(atoi(argv[1]));
	if (bind(sock, (struct sockaddr *)&server, sizeof server) < 0) {
		perror("bind");
		return 1;
	}
	while (1) {
		len = sizeof client;
		n = recvfrom(sock, buffer, BUF_SIZE - 1, 0, (struct sockaddr *)&client, &len);
		if (n < 0) {
			perror("recvfrom");
			continue;
		}
		buffer[n] = '\0';
		if (sendto(sock, buffer, strlen(buffer), 0, (struct sockaddr *)&client, len) < 0)
			perror("sendto");
	}
}
