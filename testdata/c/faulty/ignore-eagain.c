/*
 * ignore-eagain.c - FAULTY: ignores short and failed sends on non-blocking
 * sockets.
 *
 * Fault (ignores short/failed sends): a poll() server with non-blocking
 * sockets that echoes every chunk with a single send() and never looks at
 * the result.  While the client keeps up, every send() completes and the
 * echo is perfect.  When the client reads slower than it writes, the
 * socket's send buffer fills, send() writes only part of the chunk or fails
 * with EAGAIN, and the rest is silently dropped.
 *
 * Must be caught by: large/slow-reader (bytes missing, diagnosis
 * "dropped").  May also be caught, depending on scheduling, by large/16mib,
 * large/64mib and halfclose/large-pending.
 *
 * Otherwise sound: it handles EOF, errors and any number of clients.
 * Build: gcc -Wall -Wextra -O2 -o ignore-eagain ignore-eagain.c
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 1024

int main(int argc, char **argv)
{
	struct pollfd fds[MAX_FDS];
	struct sockaddr_in addr;
	int listener, nfds = 1, on = 1;
	char buf[8192];

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	fds[0].fd = listener;
	fds[0].events = POLLIN;

	for (;;) {
		int i;

		if (poll(fds, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (fds[0].revents & POLLIN) {
			int c;
			while (nfds < MAX_FDS && (c = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				fds[nfds].fd = c;
				fds[nfds].events = POLLIN;
				fds[nfds].revents = 0;
				nfds++;
			}
		}
		for (i = 1; i < nfds; i++) {
			ssize_t n;

			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = recv(fds[i].fd, buf, sizeof buf, 0);
			if (n > 0) {
				send(fds[i].fd, buf, (size_t)n, 0);
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			/* EOF or error: close and fill the hole with the last entry */
			close(fds[i].fd);
			fds[i] = fds[--nfds];
			i--;
		}
	}
}
