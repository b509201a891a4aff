/*
 * no-reap.c - FAULTY (hygiene): never reaps its children.
 *
 * Fault (zombies): a correct fork-per-client echo server, except that it
 * has no SIGCHLD handler and never calls wait(): every finished child stays
 * a zombie until the server exits.  Each client is served correctly, so
 * every MUST check passes; the zombies pile up in the process table
 * (and would hit RLIMIT_NPROC on a shared machine).
 *
 * Must be caught by: robustness/no-zombies, a SHOULD check: it warns, and
 * the verdict stays "pass" unless the run is strict.
 *
 * Build: gcc -Wall -Wextra -O2 -o no-reap no-reap.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_fully(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void echo(int fd)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_fully(fd, buf, (size_t)n) < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
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

		if (cfd < 0) {
			if (errno != EINTR)
				perror("accept");
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			echo(cfd);
			close(cfd);
			_exit(0);
		}
		if (pid < 0)
			perror("fork");
		close(cfd);
	}
}
