/*
 * epoll-server.c - a single-threaded TCP echo server built on epoll(7).
 *
 * Usage: epoll-server PORT
 *
 * One thread serves every client from one level-triggered epoll set, the
 * way high-performance C servers are written.  Sockets are non-blocking.
 * Each client has a buffer, allocated on its first read and freed whenever
 * it is empty, holding the bytes received but not yet echoed:
 *   - the server reads from a client only while that buffer is empty (it
 *     watches EPOLLIN or EPOLLOUT, never both), so a client that stops
 *     reading its echo stops being read from (backpressure);
 *   - a short or EAGAIN send leaves the rest pending until EPOLLOUT;
 *   - when the client half-closes (recv returns 0) the server flushes what
 *     is pending, then closes, which sends a FIN;
 *   - send() uses MSG_NOSIGNAL and SIGPIPE is ignored, so a client that
 *     resets mid-echo costs only its own connection;
 *   - when accept() runs out of descriptors or memory the listener leaves
 *     the epoll set until a client goes away, instead of spinning.
 *
 * Build: gcc -Wall -Wextra -O2 -o epoll-server epoll-server.c
 * Expected result in the conformance suite: conformant.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSIZE 32768
#define MAXEVENTS 256

struct client {
	int fd;
	int eof;         /* the client half-closed: flush, then close */
	uint32_t events; /* what the epoll set watches for this client */
	size_t off, len; /* pending bytes are buf[off : off+len] */
	char *buf;       /* NULL while nothing is pending */
};

static int epfd, listenfd, listener_paused;

static int listen_on(const char *port_arg)
{
	struct sockaddr_in addr;
	char *end;
	long port;
	int fd, on = 1;

	port = strtol(port_arg, &end, 10);
	if (*port_arg == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "epoll-server: bad port %s\n", port_arg);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0) {
		perror("bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static void watch_listener(int on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if (on && listener_paused) {
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, listenfd, &ev) == 0)
			listener_paused = 0;
	} else if (!on && !listener_paused) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, listenfd, NULL);
		listener_paused = 1;
	}
}

static void drop_client(struct client *c)
{
	close(c->fd); /* also leaves the epoll set */
	free(c->buf);
	free(c);
	watch_listener(1); /* a descriptor is free again */
}

/* watch sets what the epoll set waits for on c; -1 if that fails. */
static int watch(struct client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
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
				return watch(c, EPOLLOUT);
			return -1;
		}
		c->off += (size_t)n;
		c->len -= (size_t)n;
	}
	c->off = 0;
	free(c->buf); /* an idle client holds no buffer */
	c->buf = NULL;
	return watch(c, EPOLLIN);
}

/* service handles one client's events; it returns -1 to drop it. */
static int service(struct client *c, uint32_t events)
{
	if (c->len > 0 && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (flush(c) < 0)
			return -1;
	}
	if (c->len == 0 && !c->eof && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		ssize_t n;

		if (c->buf == NULL && (c->buf = malloc(BUFSIZE)) == NULL)
			return 0; /* out of memory: try again on the next event */
		n = recv(c->fd, c->buf, BUFSIZE, 0);
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

static void accept_clients(void)
{
	for (;;) {
		struct epoll_event ev;
		struct client *c;
		int fd = accept4(listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				watch_listener(0);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				 errno != ECONNABORTED)
				perror("accept");
			return;
		}
		if ((c = calloc(1, sizeof *c)) == NULL) {
			close(fd);
			watch_listener(0);
			return;
		}
		c->fd = fd;
		c->events = EPOLLIN;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			watch_listener(0);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	static struct epoll_event events[MAXEVENTS];

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	listenfd = listen_on(argv[1]);
	if (listenfd < 0)
		return 1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		perror("epoll_create1");
		return 1;
	}
	listener_paused = 1;
	watch_listener(1);
	if (listener_paused) {
		perror("epoll_ctl");
		return 1;
	}
	for (;;) {
		int i, n = epoll_wait(epfd, events, MAXEVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct client *c = events[i].data.ptr;

			if (c == NULL)
				accept_clients();
			else if (service(c, events[i].events) < 0)
				drop_client(c);
		}
	}
}
