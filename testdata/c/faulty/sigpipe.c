/*
 * sigpipe.c - FAULTY: SIGPIPE kills the whole server when a client goes
 * away in the middle of its echo.
 *
 * Fault (SIGPIPE kills a single-process server): a careful select() server
 * with non-blocking sockets, a 64 KiB echo queue per client and
 * backpressure, which never ignores SIGPIPE and writes with write() rather
 * than send(..., MSG_NOSIGNAL).  On each round it reads before it writes;
 * a read error that is not EAGAIN is only logged, since the write that
 * follows will notice the dead connection and drop it.  But when a client
 * that was not reading its echo resets, the read consumes the reset
 * (ECONNRESET), and the write of the queued echo that follows raises
 * SIGPIPE, whose default action terminates the process: every other client
 * is cut off and the server is gone.  With SIGPIPE ignored the write would
 * just fail with EPIPE and the client would be dropped.
 *
 * Must be caught by: robustness/reset-mid-echo and robustness/server-alive
 * (the server dies of SIGPIPE).  Checks that run alongside or after the
 * death fail as well (refused or reset), depending on scheduling.
 *
 * Build: gcc -Wall -Wextra -O2 -o sigpipe sigpipe.c
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define QLEN 65536

struct client {
	int fd;
	int eof;             /* the client half-closed */
	size_t start, count; /* queued echo: q[start : start+count] */
	char q[QLEN];
};

static struct client *table[FD_SETSIZE];

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void forget(int fd)
{
	close(fd);
	free(table[fd]);
	table[fd] = NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, fd, maxfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
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
	nonblock(lfd);

	for (;;) {
		fd_set rset, wset;

		FD_ZERO(&rset);
		FD_ZERO(&wset);
		FD_SET(lfd, &rset);
		maxfd = lfd;
		for (fd = 0; fd < FD_SETSIZE; fd++) {
			struct client *c = table[fd];
			if (c == NULL)
				continue;
			if (c->count < QLEN && !c->eof)
				FD_SET(fd, &rset);
			if (c->count > 0)
				FD_SET(fd, &wset);
			if (fd > maxfd)
				maxfd = fd;
		}
		if (select(maxfd + 1, &rset, &wset, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			perror("select");
			return 1;
		}
		if (FD_ISSET(lfd, &rset)) {
			int c = accept(lfd, NULL, NULL);
			if (c >= 0 && c < FD_SETSIZE && (table[c] = calloc(1, sizeof(struct client))) != NULL) {
				table[c]->fd = c;
				nonblock(c);
			} else if (c >= 0) {
				close(c);
			}
		}
		for (fd = 0; fd <= maxfd; fd++) {
			struct client *c = table[fd];
			ssize_t n;

			if (c == NULL || fd == lfd)
				continue;
			if (FD_ISSET(fd, &rset)) {
				size_t end = (c->start + c->count) % QLEN;
				size_t room = end >= c->start ? QLEN - end : c->start - end;

				if (c->count == QLEN)
					room = 0;
				n = read(fd, c->q + end, room);
				if (n == 0)
					c->eof = 1;
				else if (n > 0)
					c->count += (size_t)n;
				else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
					perror("read");
			}
			if (c->count > 0 && FD_ISSET(fd, &wset)) {
				size_t chunk = c->start + c->count > QLEN ? QLEN - c->start : c->count;

				n = write(fd, c->q + c->start, chunk);
				if (n < 0) {
					if (errno != EAGAIN && errno != EWOULDBLOCK)
						forget(fd);
					continue;
				}
				c->start = (c->start + (size_t)n) % QLEN;
				c->count -= (size_t)n;
			}
			if (c->eof && c->count == 0)
				forget(fd); /* everything echoed: close with a FIN */
		}
	}
}
