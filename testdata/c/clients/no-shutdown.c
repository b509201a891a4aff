/*
 * no-shutdown.c - FAULTY: never half-closes, so it waits for ever for the
 * server to close.
 *
 * Usage: no-shutdown HOST PORT
 *
 * Fault (no shutdown(SHUT_WR) at EOF on stdin): the client streams stdin to
 * the server and the echo to stdout at the same time, as it should, but at
 * EOF on stdin it just stops sending and keeps reading "until the server
 * closes".  An echo server closes only after its client's FIN, which never
 * comes: the whole echo is printed, then both wait for ever.
 *
 * Must fail: client/exit-status, client/closes-connection,
 * client/large-stream (it never ends).
 *
 * Otherwise stream-client.c.
 * Build: gcc -Wall -Wextra -O2 -o no-shutdown no-shutdown.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BUFSIZE 16384
#define IDLE_TIMEOUT_S 5

static int dial(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "client: %s:%s: %s\n", host, port, gai_strerror(err));
		return -2;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	if (fd < 0)
		fprintf(stderr, "client: connect %s:%s: %s\n", host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
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

static int stream(int fd)
{
	char out[BUFSIZE], in[BUFSIZE];
	size_t off = 0, pending = 0;
	long long sent = 0, received = 0;
	int stdin_open = 1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) < 0) {
		perror("client: fcntl");
		return 1;
	}
	for (;;) {
		fd_set rd, wr;
		struct timeval tv = {IDLE_TIMEOUT_S, 0};
		int n;

		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_SET(fd, &rd);
		if (pending > 0)
			FD_SET(fd, &wr);
		else if (stdin_open)
			FD_SET(STDIN_FILENO, &rd);
		n = select(fd + 1, &rd, &wr, NULL, &tv);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("client: select");
			return 1;
		}
		if (n == 0) {
			if (received < sent) {
				fprintf(stderr, "client: no echo for %d s, giving up (%lld of %lld bytes echoed)\n",
					IDLE_TIMEOUT_S, received, sent);
				return 1;
			}
			continue; /* nothing owed: stdin is just quiet */
		}
		if (FD_ISSET(fd, &rd)) {
			ssize_t r = read(fd, in, sizeof in);
			if (r == 0) {
				if (stdin_open || pending > 0 || received < sent) {
					fprintf(stderr, "client: the server closed the connection early (%lld of %lld bytes echoed)\n",
						received, sent);
					return 1;
				}
				return 0;
			}
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fprintf(stderr, "client: recv: %s\n", strerror(errno));
				return 1;
			}
			if (r > 0) {
				if (write_all(STDOUT_FILENO, in, (size_t)r) < 0) {
					perror("client: stdout");
					return 1;
				}
				received += r;
			}
		}
		if (pending > 0 && FD_ISSET(fd, &wr)) {
			ssize_t w = send(fd, out + off, pending, MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fprintf(stderr, "client: send: %s\n", strerror(errno));
				return 1;
			}
			if (w > 0) {
				off += (size_t)w;
				pending -= (size_t)w;
				sent += w;
			}
		} else if (pending == 0 && stdin_open && FD_ISSET(STDIN_FILENO, &rd)) {
			ssize_t r = read(STDIN_FILENO, out, sizeof out);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				perror("client: stdin");
				return 1;
			}
			if (r == 0) {
				stdin_open = 0; /* done sending; now wait for the server to close */
			} else {
				off = 0;
				pending = (size_t)r;
			}
		}
	}
}

int main(int argc, char **argv)
{
	int fd, status;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = dial(argv[1], argv[2]);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	status = stream(fd);
	close(fd);
	return status;
}
