/*
 * sigpipe.c - FAULTY: SIGPIPE kills the whole server when a client resets
 * in the middle of its echo.
 *
 * Fault (SIGPIPE kills a single-process server): a careful poll() server
 * (non-blocking sockets, a 64 KiB echo queue per client, backpressure,
 * half-close handled) that never ignores SIGPIPE and writes with write()
 * rather than send(..., MSG_NOSIGNAL).  On POLLERR it logs the socket's
 * error (getsockopt SO_ERROR, which also clears it) and then lets the
 * usual write path try to flush the queue, expecting the write to fail and
 * the client to be dropped.  With SIGPIPE ignored that would be so; here
 * the write to the reset connection raises SIGPIPE, whose default action
 * ends the process, and every other client with it.  Clients that read
 * their echo never make the server write to a dead connection, so
 * ordinary tests pass.
 *
 * Must be caught by: robustness/reset-mid-echo,
 * robustness/close-without-reading (a client leaves with echo queued) and
 * robustness/server-alive.  Checks running at the same time may fail too.
 *
 * Build: gcc -Wall -Wextra -O2 -o sigpipe sigpipe.c
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCLIENTS 1000
#define QLEN 65536

struct client {
	int fd;
	int eof;             /* the client half-closed */
	size_t start, count; /* queued echo: q[start : start+count] */
	char q[QLEN];
};

static struct client *clients[MAXCLIENTS];
static struct pollfd fds[MAXCLIENTS + 1];
static int nclients;

static void remove_client(int i)
{
	close(clients[i]->fd);
	free(clients[i]);
	clients[i] = clients[--nclients];
}

/* handle returns -1 when client c is finished or broken. */
static int handle(struct client *c, short revents)
{
	ssize_t n;

	if (revents & POLLERR) {
		int err = 0;
		socklen_t len = sizeof err;

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		fprintf(stderr, "client %d: %s\n", c->fd, strerror(err));
	}
	if ((revents & POLLIN) && c->count < QLEN && !c->eof) {
		size_t end = (c->start + c->count) % QLEN;
		size_t room = end >= c->start ? QLEN - end : c->start - end;

		n = read(c->fd, c->q + end, room);
		if (n == 0)
			c->eof = 1;
		else if (n > 0)
			c->count += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (c->count > 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		size_t chunk = c->start + c->count > QLEN ? QLEN - c->start : c->count;

		n = write(c->fd, c->q + c->start, chunk);
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->start = (c->start + (size_t)n) % QLEN;
		c->count -= (size_t)n;
	}
	if (c->eof && c->count == 0)
		return -1; /* all echoed: close, which sends our FIN */
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, on = 1;

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
	fcntl(lfd, F_SETFL, O_NONBLOCK);

	for (;;) {
		int i, n = nclients;

		fds[0].fd = lfd;
		fds[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			struct client *c = clients[i];
			fds[i + 1].fd = c->fd;
			fds[i + 1].events = (c->count < QLEN && !c->eof ? POLLIN : 0) | (c->count > 0 ? POLLOUT : 0);
			fds[i + 1].revents = 0;
		}
		if (poll(fds, (nfds_t)n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		for (i = n - 1; i >= 0; i--) {
			if (fds[i + 1].revents && handle(clients[i], fds[i + 1].revents) < 0)
				remove_client(i);
		}
		if (fds[0].revents & POLLIN) {
			int c;
			while (nclients < MAXCLIENTS && (c = accept(lfd, NULL, NULL)) >= 0) {
				struct client *cl = calloc(1, sizeof *cl);
				if (cl == NULL) {
					close(c);
					break;
				}
				fcntl(c, F_SETFL, O_NONBLOCK);
				cl->fd = c;
				clients[nclients++] = cl;
			}
		}
	}
}
