/*
 * crash-after.c - MISBEHAVING fixture: serves correctly, then crashes.
 *
 * For the runner's own tests: a correct fork-per-client echo server whose
 * parent aborts (SIGABRT) when it accepts its 40th connection, the way a
 * server with a fixed-size connection table and an assert() dies once the
 * table is full.  The runner must notice the death (robustness/server-alive
 * and the check that was running), report how the server died, and report
 * later checks as refused rather than hang.
 *
 * Expected: robustness/server-alive fails; the checks running at or after
 * the 40th connection fail (refused, reset or early EOF), which ones
 * depends on the order and parallelism of checks.
 *
 * Build: gcc -Wall -Wextra -O2 -o crash-after crash-after.c
 */
#define _POSIX_C_SOURCE 200809L

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SESSIONS 40

static pid_t sessions[MAX_SESSIONS];
static int nsessions;

static void reap(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void echo(int fd)
{
	char buf[16384];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0), off = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		while (off < n) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), 0);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return;
			off += w;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

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
		pid_t pid;
		int cfd = accept(lfd, NULL, NULL);

		if (cfd < 0)
			continue;
		pid = fork();
		if (pid == 0) {
			close(lfd);
			echo(cfd);
			close(cfd);
			_exit(0);
		}
		close(cfd);
		/* sessions are never removed: the table fills up */
		assert(nsessions < MAX_SESSIONS - 1);
		sessions[nsessions++] = pid;
	}
}
