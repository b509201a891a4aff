/*
 * line-client.c - an interactive echo client: sends each line of stdin and
 * prints its echo.
 *
 * Usage: line-client HOST PORT
 *
 * For each line read with fgets it sends the line, loops on recv until as
 * many bytes have come back, and writes exactly those bytes to stdout.  At
 * EOF on stdin it closes the connection and exits 0.  A failed send or
 * recv, a server that closes before a whole echo is back, or one silent
 * for 5 s (SO_RCVTIMEO) ends it with a message on stderr and exit status
 * 1.  Bad usage or address: exit status 2.
 *
 * Build: gcc -Wall -Wextra -O2 -o line-client line-client.c
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

#define MAXLINE 1024
#define RECV_TIMEOUT_S 5

static char line[MAXLINE], reply[MAXLINE];

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

	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t len = strlen(line), got = 0;

		if (send_all(fd, line, len) < 0) {
			fprintf(stderr, "client: send: %s\n", strerror(errno));
			goto fail;
		}
		while (got < len) {
			ssize_t n = recv(fd, reply + got, len - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				fprintf(stderr, "client: no echo for %d s, giving up\n", RECV_TIMEOUT_S);
				goto fail;
			}
			if (n < 0) {
				fprintf(stderr, "client: recv: %s\n", strerror(errno));
				goto fail;
			}
			if (n == 0) {
				fprintf(stderr, "client: the server closed the connection after %zu of %zu bytes\n", got, len);
				goto fail;
			}
			got += (size_t)n;
		}
		fwrite(reply, 1, got, stdout);
		if (fflush(stdout) == EOF) {
			perror("client: stdout");
			goto fail;
		}
	}
	if (ferror(stdin)) {
		perror("client: stdin");
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return 1;
}
