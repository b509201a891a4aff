/*
 * silent.c - MISBEHAVING fixture: accepts every connection and then never
 * reads or writes.
 *
 * For the runner's own tests: a server that is up (connect succeeds, the
 * handshake completes) but says nothing and reads nothing, so every check
 * that waits for an echo must end in a timeout, bounded by its deadline,
 * rather than hang.  Connections are held open (never closed) until the fd
 * limit; then accept() failures are waited out with a 100 ms back-off.
 *
 * Expected: every check fails with a timeout (basic/no-greeting too, as it
 * expects an echo once it has listened for a greeting; the SHOULD checks
 * warn), except robustness/server-alive, which passes.
 *
 * Build: gcc -Wall -Wextra -O2 -o silent silent.c
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		/* the descriptor is deliberately kept open and never used */
		if (accept(lfd, NULL, NULL) < 0) {
			struct timespec backoff = { 0, 100 * 1000 * 1000 };
			nanosleep(&backoff, NULL);
		}
	}
}
