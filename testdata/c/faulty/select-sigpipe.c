/*
 * select-sigpipe.c - FAULTY: a select() server that SIGPIPE kills when it
 * flushes a client's pending echo after the client has gone.
 *
 * Fault (SIGPIPE not ignored, event loop): a single-process select() server
 * with non-blocking sockets and a 64 KiB queue of unsent echo per client.
 * It reads only while the queue has room and writes only when select()
 * says the socket is writable, so a client that does not read holds up no
 * one.  When read() returns 0 or fails, it marks the client as finished
 * and flushes the queue before closing, so that a client's last bytes are
 * never lost.  But it never ignores SIGPIPE: when the client has half-closed
 * and then reset, the flush writes to a dead connection, and SIGPIPE kills
 * the server with every client.
 *
 * Must be caught by: robustness/reset-pending-write (a client half-closes
 * and resets with its echo queued; the server dies of SIGPIPE) and
 * robustness/server-alive.  The other robustness checks that make clients
 * leave mid-echo may fail too.
 *
 * Build: gcc -Wall -Wextra -O2 -o select-sigpipe select-sigpipe.c
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
	int done;       /* read() returned 0 or failed: flush, then close */
	size_t len;     /* queued echo: q[0:len] */
	char q[QLEN];
};

static struct client *clients[FD_SETSIZE];

static void drop(int fd)
{
	close(fd);
	free(clients[fd]);
	clients[fd] = NULL;
}

static void on_readable(struct client *c)
{
	ssize_t n = read(c->fd, c->q + c->len, QLEN - c->len);

	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		c->done = 1;
}

static void on_writable(struct client *c)
{
	ssize_t n = write(c->fd, c->q, c->len);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->done = 1, c->len = 0;
		return;
	}
	memmove(c->q, c->q + n, c->len - (size_t)n);
	c->len -= (size_t)n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, fd, on = 1;

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
	for (;;) {
		fd_set rs, ws;
		int maxfd = lfd;

		FD_ZERO(&rs);
		FD_ZERO(&ws);
		FD_SET(lfd, &rs);
		for (fd = 0; fd < FD_SETSIZE; fd++) {
			struct client *c = clients[fd];
			if (c == NULL)
				continue;
			if (!c->done && c->len < QLEN)
				FD_SET(fd, &rs);
			if (c->len > 0)
				FD_SET(fd, &ws);
			if (fd > maxfd)
				maxfd = fd;
		}
		if (select(maxfd + 1, &rs, &ws, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			perror("select");
			return 1;
		}
		for (fd = 0; fd < FD_SETSIZE; fd++) {
			struct client *c = clients[fd];
			if (c == NULL)
				continue;
			if (FD_ISSET(fd, &rs))
				on_readable(c);
			if (FD_ISSET(fd, &ws))
				on_writable(c);
			if (c->done && c->len == 0)
				drop(fd);
		}
		if (FD_ISSET(lfd, &rs)) {
			while ((fd = accept(lfd, NULL, NULL)) >= 0) {
				if (fd >= FD_SETSIZE || (clients[fd] = calloc(1, sizeof *clients[fd])) == NULL) {
					close(fd);
					continue;
				}
				fcntl(fd, F_SETFL, O_NONBLOCK);
				clients[fd]->fd = fd;
			}
		}
	}
}
