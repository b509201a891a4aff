/*
 * write-all-first.c - FAULTY: sends all of stdin before it reads any echo.
 *
 * Usage: write-all-first HOST PORT
 *
 * Fault (writes everything before reading): the client copies stdin to
 * the socket with blocking sends until EOF, half-closes, and only then
 * copies the echo to stdout.  For a few lines it works.  For a few MiB the
 * echo fills the client's receive buffer and the server's send buffer, the
 * server stops reading, the client's send blocks, and both wait for ever.
 *
 * Must fail: client/large-stream (deadlock on several MiB).
 *
 * Exit status otherwise as stream-client.c: 0 after the whole echo, 1 on an
 * error, an early close, or 5 s without echo (SO_RCVTIMEO); 2 bad usage.
 * Build: gcc -Wall -Wextra -O2 -o write-all-first write-all-first.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BUFSIZE 16384
#define RECV_TIMEOUT_S 5

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

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
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

int main(int argc, char **argv)
{
	struct timeval tv = {RECV_TIMEOUT_S, 0};
	char buf[BUFSIZE];
	long long sent = 0, received = 0;
	ssize_t n;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = dial(argv[1], argv[2]);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	/* first send everything ... */
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("client: stdin");
			goto fail;
		}
		if (send_all(fd, buf, (size_t)n) < 0) {
			fprintf(stderr, "client: send: %s\n", strerror(errno));
			goto fail;
		}
		sent += n;
	}
	shutdown(fd, SHUT_WR);

	/* ... then read the echo back */
	while ((n = recv(fd, buf, sizeof buf, 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fprintf(stderr, "client: no echo for %d s, giving up\n", RECV_TIMEOUT_S);
			else
				fprintf(stderr, "client: recv: %s\n", strerror(errno));
			goto fail;
		}
		if (write(STDOUT_FILENO, buf, (size_t)n) != n) {
			perror("client: stdout");
			goto fail;
		}
		received += n;
	}
	if (received < sent) {
		fprintf(stderr, "client: the server closed the connection early (%lld of %lld bytes echoed)\n",
			received, sent);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return 1;
}
