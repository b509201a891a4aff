/*
 * store-forward.c - FAULTY: reads until EOF, then echoes everything.
 *
 * Fault (store-and-forward): the child collects the whole "message" into a
 * growing heap buffer until the client half-closes, then sends it all back
 * and closes.  Every byte comes back, in order, so a test that sends,
 * half-closes and reads passes; but nothing is echoed while the
 * connection is open, and memory grows with the input.
 *
 * Must be caught by: partial/prompt-echo, basic/small-message,
 * basic/many-messages and every check that reads an echo before it
 * half-closes.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o store-forward store-forward.c
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

static void chld(int s)
{
	int e = errno;
	(void)s;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

static void serve(int fd)
{
	size_t cap = 4096, len = 0, off = 0;
	char *data = malloc(cap);

	if (data == NULL)
		return;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *bigger = realloc(data, cap * 2);
			if (bigger == NULL)
				goto out;
			data = bigger;
			cap *= 2;
		}
		n = recv(fd, data + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (off < len) {
		ssize_t n = send(fd, data + off, len - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
out:
	free(data);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa_in;
	struct sigaction sa;
	int lsock, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lsock = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa_in, 0, sizeof sa_in);
	sa_in.sin_family = AF_INET;
	sa_in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa_in.sin_port = htons(atoi(argv[1]));
	if (bind(lsock, (struct sockaddr *)&sa_in, sizeof sa_in) < 0 || listen(lsock, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		int c = accept(lsock, NULL, NULL);
		if (c < 0)
			continue;
		if (fork() == 0) {
			close(lsock);
			serve(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}
