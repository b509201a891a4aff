/*
 * hol-blocking.c - FAULTY: one client that does not read stalls everyone
 * (head-of-line blocking).
 *
 * Fault (head-of-line blocking): a single-process select() server with
 * blocking sockets.  When a client is readable the server reads a chunk
 * and writes it all back with a blocking writen() before looking at anyone
 * else.  As long as every client reads its echo this is correct, including
 * many clients at once.  A client that sends a lot and never reads fills
 * its socket buffers, writen() blocks forever, and every other client
 * waits for an echo that never comes.
 *
 * Must be caught by: concurrency/non-reading-client (the other clients
 * starve).  Checks that run alongside it while the server is stuck may
 * time out too.
 *
 * Build: gcc -Wall -Wextra -O2 -o hol-blocking hol-blocking.c
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int clients[FD_SETSIZE];
static int nclients;

static int writen(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, on = 1;
	char buf[4096];

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
		fd_set rset;
		int i, maxfd = lfd;

		FD_ZERO(&rset);
		FD_SET(lfd, &rset);
		for (i = 0; i < nclients; i++) {
			FD_SET(clients[i], &rset);
			if (clients[i] > maxfd)
				maxfd = clients[i];
		}
		if (select(maxfd + 1, &rset, NULL, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			perror("select");
			return 1;
		}
		if (FD_ISSET(lfd, &rset)) {
			int c = accept(lfd, NULL, NULL);
			if (c >= 0 && c < FD_SETSIZE)
				clients[nclients++] = c;
			else if (c >= 0)
				close(c);
		}
		for (i = 0; i < nclients; i++) {
			int fd = clients[i];
			ssize_t n;

			if (!FD_ISSET(fd, &rset))
				continue;
			n = read(fd, buf, sizeof buf);
			if (n > 0 && writen(fd, buf, (size_t)n) == 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			/* EOF or error: remove this client */
			close(fd);
			clients[i] = clients[--nclients];
			i--;
		}
	}
}
