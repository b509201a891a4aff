/*
 * close-pending.c - FAULTY: treats the client's half-close as a hang-up and
 * closes at once, without echoing what is still pending.
 *
 * Fault (half-close: closes before echoing pending data): a poll() server
 * with a 64 KiB echo queue per client, non-blocking sockets and
 * backpressure, all correct, which also asks for POLLRDHUP "to notice
 * disconnects early", as many epoll tutorials do, and checks it first:
 * when the client's FIN arrives the connection is closed on the spot.  The
 * bytes that arrived just before the FIN, still unread in the socket or
 * queued for echo, are thrown away, and because unread data is discarded
 * the close goes out as a reset.  A client that waits for its echo before
 * it closes never notices.
 *
 * Must be caught by: robustness/sequential-connections (1500 connections
 * that each send and half-close at once: some FIN always arrives with data
 * still unread, and that connection gets a reset).  Depending on how the
 * FIN and the last bytes are scheduled, a single try may also catch it:
 * halfclose/small-pending, halfclose/large-pending, and the large/1mib,
 * large/16mib, large/64mib and large/slow-reader checks, which half-close
 * right after their last write.
 *
 * Build: gcc -Wall -Wextra -O2 -o close-pending close-pending.c
 */
#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCONN 1024
#define QSIZE 65536

struct conn {
	int fd;
	size_t head, len; /* ring buffer of bytes still to echo */
	char q[QSIZE];
};

static struct conn *conns[MAXCONN];
static struct pollfd pfd[MAXCONN + 1];
static int nconns;

static void drop(int i)
{
	close(conns[i]->fd);
	free(conns[i]);
	conns[i] = conns[--nconns];
}

/* on_readable returns -1 when the connection must be closed. */
static int on_readable(struct conn *c)
{
	size_t tail = (c->head + c->len) % QSIZE;
	size_t room = tail >= c->head ? QSIZE - tail : c->head - tail;
	ssize_t n;

	if (c->len == QSIZE)
		return 0;
	n = recv(c->fd, c->q + tail, room, 0);
	if (n == 0)
		return -1; /* client is done */
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	c->len += (size_t)n;
	return 0;
}

static int on_writable(struct conn *c)
{
	size_t chunk = c->head + c->len > QSIZE ? QSIZE - c->head : c->len;
	ssize_t n = send(c->fd, c->q + c->head, chunk, MSG_NOSIGNAL);

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	c->head = (c->head + (size_t)n) % QSIZE;
	c->len -= (size_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	int lfd, yes = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		int i, n = nconns;

		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = conns[i]->fd;
			pfd[i + 1].events = POLLRDHUP | (conns[i]->len < QSIZE ? POLLIN : 0) |
					    (conns[i]->len ? POLLOUT : 0);
			pfd[i + 1].revents = 0;
		}
		if (poll(pfd, (nfds_t)n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		for (i = n - 1; i >= 0; i--) {
			short re = pfd[i + 1].revents;
			int bad = 0;

			if (re & (POLLRDHUP | POLLHUP | POLLERR)) {
				drop(i); /* client hung up */
				continue;
			}
			if (re & POLLOUT)
				bad = on_writable(conns[i]);
			if (!bad && (re & POLLIN))
				bad = on_readable(conns[i]);
			if (bad)
				drop(i);
		}
		if (pfd[0].revents & POLLIN) {
			int fd;
			while (nconns < MAXCONN && (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				struct conn *c = calloc(1, sizeof *c);
				if (c == NULL) {
					close(fd);
					break;
				}
				c->fd = fd;
				conns[nconns++] = c;
			}
		}
	}
}
