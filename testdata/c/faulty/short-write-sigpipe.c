/*
 * short-write-sigpipe.c - FAULTY: an epoll server whose write comes back
 * short, and whose retry SIGPIPE kills once the client has gone.
 *
 * Fault (SIGPIPE not ignored, short writes retried): a single-process
 * edge-triggered epoll server with non-blocking sockets and a 64 KiB queue
 * of unsent echo per client.  As edge-triggered epoll requires, it reads
 * until EAGAIN and writes until EAGAIN: a write that comes back short is
 * retried at once with the rest, and again on the next EPOLLOUT.  Errors
 * other than EAGAIN close the client.  It never ignores SIGPIPE and writes
 * with write() rather than send(..., MSG_NOSIGNAL): when a client that
 * half-closed resets while its echo is queued, the retry of the short
 * write raises SIGPIPE and the server dies with every client.
 *
 * Must be caught by: robustness/reset-pending-write (the server process
 * dies of SIGPIPE) and robustness/server-alive.  The other robustness
 * checks that make clients leave mid-echo may fail too.
 *
 * Build: gcc -Wall -Wextra -O2 -o short-write-sigpipe short-write-sigpipe.c
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define QLEN 65536

struct client {
	int fd;
	int eof;
	size_t len;
	char q[QLEN];
};

/* pump moves data until EAGAIN both ways; it returns -1 when c is done. */
static int pump(struct client *c)
{
	int progress = 1;

	while (progress) {
		progress = 0;
		while (!c->eof && c->len < QLEN) {
			ssize_t n = read(c->fd, c->q + c->len, QLEN - c->len);
			if (n > 0) {
				c->len += (size_t)n;
				progress = 1;
			} else if (n == 0) {
				c->eof = 1;
			} else if (errno == EAGAIN) {
				break;
			} else if (errno != EINTR) {
				return -1;
			}
		}
		while (c->len > 0) {
			ssize_t n = write(c->fd, c->q, c->len);
			if (n < 0) {
				if (errno == EAGAIN)
					break;
				if (errno == EINTR)
					continue;
				return -1;
			}
			memmove(c->q, c->q + n, c->len - (size_t)n);
			c->len -= (size_t)n;
			progress = 1; /* short or not: try the rest at once */
		}
	}
	return c->eof && c->len == 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct epoll_event ev, evs[64];
	int lfd, ep, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int i, n = epoll_wait(ep, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;
				while ((fd = accept(lfd, NULL, NULL)) >= 0) {
					c = calloc(1, sizeof *c);
					if (c == NULL) {
						close(fd);
						continue;
					}
					fcntl(fd, F_SETFL, O_NONBLOCK);
					c->fd = fd;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (pump(c) < 0) {
				close(c->fd);
				free(c);
			}
		}
	}
}
