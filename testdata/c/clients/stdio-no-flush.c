/*
 * stdio-no-flush.c - FAULTY: an interactive echo client that talks to the
 * server through stdio streams.
 *
 * Usage: stdio-no-flush HOST PORT
 *
 * It wraps the socket in two FILE streams with fdopen, writes each line of
 * stdin with fputs and reads its echo with fgets, with a 2 s receive
 * timeout (SO_RCVTIMEO).
 *
 * FAULT: it never calls fflush on the stream it writes to.  A FILE opened
 * on a socket is fully buffered, so the line stays in the client's own
 * buffer while it waits for its echo: nothing reaches the server until the
 * timeout, when exit() flushes the first line at last.  Caught by
 * client/sends-exact, client/prints-echo, client/exit-status,
 * client/short-reads, client/delayed-echo and client/resplit-echo.
 *
 * Build: gcc -Wall -Wextra -O2 -o stdio-no-flush stdio-no-flush.c
 */
#define _POSIX_C_SOURCE 200809L

#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints, *res;
	struct timeval tv = {2, 0};
	char line[4096], echo[4096];
	FILE *rd, *wr;
	int fd, err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if ((err = getaddrinfo(argv[1], argv[2], &hints, &res)) != 0) {
		fprintf(stderr, "client: %s\n", gai_strerror(err));
		return 1;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		perror("client: connect");
		return 1;
	}
	freeaddrinfo(res);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	rd = fdopen(fd, "r");
	wr = fdopen(dup(fd), "w");
	if (rd == NULL || wr == NULL) {
		perror("client: fdopen");
		return 1;
	}
	while (fgets(line, sizeof line, stdin) != NULL) {
		fputs(line, wr);
		if (fgets(echo, sizeof echo, rd) == NULL) {
			fprintf(stderr, "client: no echo (the server closed, or 2 s passed)\n");
			return 1;
		}
		fputs(echo, stdout);
	}
	shutdown(fd, SHUT_WR);
	while (fgets(echo, sizeof echo, rd) != NULL)
		;
	return 0;
}
