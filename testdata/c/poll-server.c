/*
 * poll-server.c - a single-process TCP echo server built on poll(2).
 *
 * Usage: poll-server PORT
 *
 * One process serves every client.  Sockets are non-blocking.  Each client
 * has a fixed buffer holding the bytes received but not yet echoed:
 *   - the server reads from a client only while that buffer is empty, so a
 *     client that stops reading its echo stops being read from
 *     (backpressure) and cannot make the server buffer without bound or
 *     stall the others;
 *   - a short or EAGAIN send leaves the rest pending, and the server waits
 *     for POLLOUT before writing the remainder;
 *   - when the client half-closes (recv returns 0) the server flushes what
 *     is pending, then closes its side, which sends a FIN;
 *   - send() uses MSG_NOSIGNAL so a client that resets mid-echo costs only
 *     its own connection (and SIGPIPE is ignored as well);
 *   - when accept() runs out of descriptors the listener is left out of the
 *     poll set until a client goes away, instead of spinning.
 *
 * Build: gcc -Wall -Wextra -O2 -o poll-server poll-server.c
 * Expected result in the conformance suite: conformant.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
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

#define BUFSIZE 16384
#define MAXCLIENTS 4096

struct client {
	int fd;
	int eof;            /* the client half-closed: flush, then close */
	size_t off, len;    /* pending bytes are buf[off : off+len] */
	char buf[BUFSIZE];
};

static struct client *clients[MAXCLIENTS];
static int nclients;

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL, 0);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int listen_on(const char *port_arg)
{
	struct sockaddr_in addr;
	char *end;
	long port;
	int fd, on = 1;

	port = strtol(port_arg, &end, 10);
	if (*port_arg == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "poll-server: bad port %s\n", port_arg);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    set_nonblocking(fd) < 0) {
		perror("bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static void drop_client(int i)
{
	close(clients[i]->fd);
	free(clients[i]);
	clients[i] = clients[--nclients];
}

/* flush sends what is pending; it returns -1 when the connection is dead. */
static int flush(struct client *c)
{
	while (c->len > 0) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0; /* wait for POLLOUT */
			return -1;
		}
		c->off += (size_t)n;
		c->len -= (size_t)n;
	}
	c->off = 0;
	return 0;
}

/* service handles one client's poll events; it returns -1 to drop it. */
static int service(struct client *c, short revents)
{
	if (revents & POLLNVAL)
		return -1;
	if (c->len > 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		if (flush(c) < 0)
			return -1;
	}
	if (c->len == 0 && !c->eof && (revents & (POLLIN | POLLERR | POLLHUP))) {
		ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
		} else if (n == 0) {
			c->eof = 1;
		} else {
			c->off = 0;
			c->len = (size_t)n;
			if (flush(c) < 0)
				return -1;
		}
	}
	if (c->eof && c->len == 0)
		return -1; /* everything echoed: close, which sends our FIN */
	return 0;
}

static void accept_clients(int listenfd, int *listener_paused)
{
	for (;;) {
		struct client *c;
		int fd = accept(listenfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				*listener_paused = 1;
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				 errno != ECONNABORTED)
				perror("accept");
			return;
		}
		if (nclients == MAXCLIENTS || set_nonblocking(fd) < 0 ||
		    (c = calloc(1, sizeof *c)) == NULL) {
			close(fd);
			*listener_paused = 1;
			return;
		}
		c->fd = fd;
		clients[nclients++] = c;
	}
}

int main(int argc, char **argv)
{
	static struct pollfd pfds[MAXCLIENTS + 1];
	int listenfd, listener_paused = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	listenfd = listen_on(argv[1]);
	if (listenfd < 0)
		return 1;

	for (;;) {
		int i, n, before = nclients;

		pfds[0].fd = listener_paused ? -1 : listenfd;
		pfds[0].events = POLLIN;
		for (i = 0; i < nclients; i++) {
			pfds[i + 1].fd = clients[i]->fd;
			pfds[i + 1].events = clients[i]->len > 0 ? POLLOUT : POLLIN;
			pfds[i + 1].revents = 0;
		}
		n = poll(pfds, (nfds_t)nclients + 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		/* Walk backwards: drop_client moves the last client into slot i. */
		for (i = before - 1; i >= 0; i--) {
			if (pfds[i + 1].revents && service(clients[i], pfds[i + 1].revents) < 0)
				drop_client(i);
		}
		if (nclients < before)
			listener_paused = 0;
		if (pfds[0].revents & POLLIN)
			accept_clients(listenfd, &listener_paused);
	}
}
