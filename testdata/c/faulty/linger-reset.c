/*
 * linger-reset.c - FAULTY: closes every connection with a reset.
 *
 * Fault (half-close: closes with a reset): to "avoid TIME_WAIT" the author
 * followed a forum answer and set SO_LINGER with a zero timeout on every
 * accepted socket.  close() then aborts the connection: the client gets
 * an RST instead of a FIN, and any echo still in the server's send buffer
 * is discarded.  The echo itself is perfect while the connection is open.
 *
 * Must be caught by: halfclose/no-data, halfclose/small-pending,
 * halfclose/large-pending (reset instead of EOF) and
 * robustness/sequential-connections (each connection should end in EOF).
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o linger-reset linger-reset.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void echo_loop(int fd)
{
	char buf[8192];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0), off = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		while (off < n) {
			ssize_t w = send(fd, buf + off, (size_t)(n - off), 0);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			off += w;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	struct linger lg = { 1, 0 }; /* no TIME_WAIT */
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
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		if (fork() == 0) {
			close(lfd);
			echo_loop(cfd);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
