/*
 * first-recv.c - FAULTY: echoes only the first recv(), then keeps the
 * connection open and idle.
 *
 * Fault (echoes only the first read): the author thought in requests and
 * responses: read one "request", write it back, then wait for the client to
 * hang up, reading and discarding whatever else it sends.  A one-shot test
 * (send "hello", read "hello") passes; the second message on a connection
 * never comes back, and the server stays connected without a word.
 *
 * Must be caught by: basic/many-messages (timeout after the first message),
 * partial/odd-sizes, partial/paused-writes and the large transfers (only
 * the first read is echoed); partial/single-byte-writes too, unless the
 * first read happens to hold every byte.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o first-recv first-recv.c
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

static void sig_chld(int signo)
{
	int olderrno = errno;
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = olderrno;
}

static int writen(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve(int fd)
{
	char request[8192];
	ssize_t n;

	do
		n = read(fd, request, sizeof request);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return;
	if (writen(fd, request, (size_t)n) < 0)
		return;
	/* response sent; wait for the client to hang up */
	while ((n = read(fd, request, sizeof request)) != 0) {
		if (n < 0 && errno != EINTR)
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_chld;
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
		if (fork() == 0) {
			close(lfd);
			serve(cfd);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
