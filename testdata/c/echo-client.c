/*
 * echo-client.c - the classic TCP echo client (RFC 862), binary-safe.
 *
 * Usage: echo-client HOST PORT
 *        echo-client HOST:PORT        ([::1]:7 for IPv6)
 *
 * Interactive mode (stdin is a terminal): every line typed is sent, and the
 * echo of exactly that many bytes is read back and printed, as in the
 * classic client; an echo that does not come within 5 s is an error.
 *
 * Pipe mode (stdin is not a terminal): stdin is streamed to the server
 * while the echo is copied to stdout at the same time, with poll(2) on
 * stdin, the socket and (when a send is pending) the socket's writability,
 * so a large input can never deadlock against a server whose echo fills the
 * socket buffers.  At EOF on stdin the client half-closes (shutdown
 * SHUT_WR) and keeps copying the echo until the server closes.
 *
 * Exit codes: 0 the server closed normally, after echoing every byte sent;
 * 1 a connection error (refused, reset, unreachable), a server that closed
 * before echoing every byte sent, or one that echoed nothing for 5 s while
 * some echo was still owed; 2 bad usage or address.
 *
 * Build: gcc -Wall -Wextra -O2 -o echo-client echo-client.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define BUFSIZE 16384
#define IDLE_TIMEOUT_MS 5000

/* split_addr splits "HOST:PORT" or "[V6]:PORT" in place. */
static int split_addr(char *arg, char **host, char **port)
{
	char *colon;

	if (arg[0] == '[') {
		char *close_br = strchr(arg, ']');
		if (close_br == NULL || close_br[1] != ':')
			return -1;
		*close_br = '\0';
		*host = arg + 1;
		*port = close_br + 2;
		return 0;
	}
	colon = strrchr(arg, ':');
	if (colon == NULL || colon == arg)
		return -1;
	*colon = '\0';
	*host = arg;
	*port = colon + 1;
	return 0;
}

static int dial(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "echo-client: %s:%s: %s\n", host, port, gai_strerror(err));
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
		fprintf(stderr, "echo-client: connect %s:%s: %s\n", host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* interactive sends each line and prints the echo of that many bytes. */
static int interactive(int fd)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = 0;
	struct timeval tv = {IDLE_TIMEOUT_MS / 1000, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char buf[BUFSIZE];
		ssize_t got = 0;

		if (write_all(fd, line, (size_t)len) < 0) {
			perror("echo-client: send");
			status = 1;
			break;
		}
		while (got < len) {
			size_t want = (size_t)(len - got) < sizeof buf ? (size_t)(len - got) : sizeof buf;
			ssize_t n = read(fd, buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				fprintf(stderr, "echo-client: no echo for %d s, giving up\n", IDLE_TIMEOUT_MS / 1000);
				status = 1;
				goto out;
			}
			if (n <= 0) {
				fprintf(stderr, "echo-client: %s\n",
					n == 0 ? "server closed the connection" : strerror(errno));
				status = 1;
				goto out;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
				perror("echo-client: stdout");
				status = 1;
				goto out;
			}
			got += n;
		}
	}
	shutdown(fd, SHUT_WR);
out:
	free(line);
	return status;
}

/*
 * pipe_mode streams stdin to fd and fd to stdout concurrently.  stdin is
 * read only when nothing is waiting to be sent, so memory stays bounded.
 */
static int pipe_mode(int fd)
{
	char out[BUFSIZE], in[BUFSIZE];
	size_t off = 0, pending = 0;
	long long sent = 0, received = 0;
	int stdin_open = 1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK) < 0) {
		perror("echo-client: fcntl");
		return 1;
	}
	for (;;) {
		struct pollfd p[2];
		int np = 1;

		p[0].fd = fd;
		p[0].events = POLLIN | (pending > 0 ? POLLOUT : 0);
		p[0].revents = 0;
		if (stdin_open && pending == 0) {
			p[1].fd = STDIN_FILENO;
			p[1].events = POLLIN;
			p[1].revents = 0;
			np = 2;
		}
		int ready = poll(p, (nfds_t)np, received < sent ? IDLE_TIMEOUT_MS : -1);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			perror("echo-client: poll");
			return 1;
		}
		if (ready == 0) {
			fprintf(stderr, "echo-client: no echo for %d s, giving up (%lld of %lld bytes echoed)\n",
				IDLE_TIMEOUT_MS / 1000, received, sent);
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, in, sizeof in);
			if (n == 0 && (stdin_open || pending > 0 || received < sent)) {
				fprintf(stderr, "echo-client: the server closed the connection early (%lld of %lld bytes echoed)\n",
					received, sent);
				return 1;
			}
			if (n == 0)
				return 0; /* the server closed after the whole echo: done */
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fprintf(stderr, "echo-client: recv: %s\n", strerror(errno));
				return 1;
			}
			if (n > 0 && write_all(STDOUT_FILENO, in, (size_t)n) < 0) {
				perror("echo-client: stdout");
				return 1;
			}
			if (n > 0)
				received += n;
		}
		if (pending > 0 && (p[0].revents & POLLOUT)) {
			ssize_t n = send(fd, out + off, pending, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				fprintf(stderr, "echo-client: send: %s\n", strerror(errno));
				return 1;
			}
			if (n > 0) {
				off += (size_t)n;
				pending -= (size_t)n;
				sent += n;
			}
			if (pending == 0 && !stdin_open)
				shutdown(fd, SHUT_WR);
		}
		if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(STDIN_FILENO, out, sizeof out);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n < 0)
					perror("echo-client: stdin");
				stdin_open = 0;
				shutdown(fd, SHUT_WR); /* half-close: nothing is pending */
			} else {
				off = 0;
				pending = (size_t)n;
			}
		}
	}
}

int main(int argc, char **argv)
{
	char *host, *port;
	int fd;

	if (argc == 3) {
		host = argv[1];
		port = argv[2];
	} else if (argc == 2 && split_addr(argv[1], &host, &port) == 0) {
		/* host and port point into argv[1] */
	} else {
		fprintf(stderr, "usage: %s HOST PORT | HOST:PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = dial(host, port);
	if (fd == -2)
		return 2;
	if (fd < 0)
		return 1;
	if (isatty(STDIN_FILENO)) {
		int status = interactive(fd);
		close(fd);
		return status;
	}
	{
		int status = pipe_mode(fd);
		close(fd);
		return status;
	}
}
