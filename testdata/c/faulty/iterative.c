/*
 * iterative.c - FAULTY: serves one client at a time.
 *
 * Fault (iterative, no concurrency): the textbook's first server: accept,
 * echo until EOF, close, accept the next.  Every single-client test passes,
 * including large transfers and half-close.  A second client is accepted
 * by the kernel (connect succeeds, thanks to the backlog) but gets no echo
 * until the first client leaves.
 *
 * Must be caught by: concurrency/many-clients, concurrency/idle-client,
 * concurrency/non-reading-client (the second client gets no echo).
 *
 * Build: gcc -Wall -Wextra -O2 -o iterative iterative.c
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

int main(int argc, char **argv)
{
	struct sockaddr_in servaddr, cliaddr;
	int listenfd, on = 1;
	char buf[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons(atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0) {
		perror("bind");
		return 1;
	}
	listen(listenfd, SOMAXCONN);

	for (;;) {
		socklen_t clilen = sizeof cliaddr;
		int connfd = accept(listenfd, (struct sockaddr *)&cliaddr, &clilen);
		ssize_t n;

		if (connfd < 0)
			continue;
		for (;;) {
			ssize_t off = 0;

			n = read(connfd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			while (off < n) {
				ssize_t w = write(connfd, buf + off, (size_t)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					break;
				off += w;
			}
			if (off < n)
				break;
		}
		close(connfd);
	}
}
