/*
 * never-listens.c - MISBEHAVING fixture: starts, but never listens.
 *
 * For the runner's own tests: a program that takes the port argument, says
 * it is starting, and then sleeps without ever creating a socket (as a
 * server stuck before its listen() would).  The runner must give up after
 * its start-up timeout with a clear error, report every check as failed
 * (refused), and kill the process.
 *
 * Expected: verdict fail; every check fails (refused), from
 * basic/no-greeting to robustness/server-alive; the SHOULD checks warn.
 *
 * Build: gcc -Wall -Wextra -O2 -o never-listens never-listens.c
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	printf("starting echo server on port %s...\n", argv[1]);
	fflush(stdout);
	for (;;)
		pause();
}
