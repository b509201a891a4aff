/*
 * stream-client.c - a stream echo client: stdin to the server, the echo to
 * stdout, until EOF.
 *
 * Usage: stream-client HOST PORT
 *
 * It reads stdin and the socket at the same time with select(2), and
 * writes to the socket only when select says it can, so a large input can
 * never deadlock against a server whose echo fills the socket buffers.  At
 * EOF on stdin it half-closes (shutdown SHUT_WR) and copies the echo until
 * the server closes.
 *
 * Exit status: 0 when the server closes after echoing every byte sent; 1
 * on an error, when the server closes before that (an early close), or
 * when no echo comes for 5 s while some is still owed; 2 on bad usage.
 *
 * Build: gcc -Wall -Wextra -O2 -o stream-client stream-client.c
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
			if (pending == 0 && !stdin_open)
				shutdown(fd, SHUT_WR);
		} else if (pending == 0 && stdin_open && FD_ISSET(STDIN_FILENO, &rd)) {
			ssize_t r = read(STDIN_FILENO, out, sizeof out);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				perror("client: stdin");
				return 1;
			}
			if (r == 0) {
				stdin_open = 0;
				shutdown(fd, SHUT_WR); /* nothing is pending */
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
