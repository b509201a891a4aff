/*
 * close-at-once.c - FAULTY: accepts every connection and closes it at once.
 *
 * Fault (closes at once): a server skeleton whose service loop was never
 * written: it accepts, closes the socket and waits for the next client.
 * Every client sees its connection end before any echo: an EOF, or a reset
 * when its bytes reached the socket first.  The runner itself must not
 * mistake the broken pipes for its own (issue 10: exit 2, "interrupted").
 *
 * Must be caught by: every check that expects an echo (the basic, partial,
 * large and concurrency checks, halfclose/small-pending and large-pending,
 * robustness/sequential-connections); halfclose/no-data, no-greeting and
 * the robustness checks that do not wait for an echo pass.
 *
 * Otherwise a sound single-process server: SIGPIPE ignored, no children.
 * Build: gcc -Wall -Wextra -O2 -o close-at-once close-at-once.c
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int listener, opt = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		return 1;
	}
	listen(listener, 128);

	for (;;) {
		int conn = accept(listener, NULL, NULL);
		if (conn < 0)
			continue;
		close(conn); /* TODO: serve the client */
	}
}
