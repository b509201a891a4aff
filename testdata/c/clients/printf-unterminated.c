/*
 * printf-unterminated.c - FAULTY: prints each echo with printf("%s") from a
 * buffer it never terminates.
 *
 * Usage: printf-unterminated HOST PORT
 *
 * Fault (unterminated buffer): the echo is received into reply[] and printed
 * with printf("%s", reply), but recv does not add a NUL.  The buffer starts
 * zeroed (it is static), so the first echo prints right; after a long line,
 * a shorter one prints its echo and then the stale tail of the long one:
 * garbage after the echo.
 *
 * Must fail: client/prints-echo (and, since every check of an interactive
 * client sends the same lines, every check judged on stdout:
 * client/short-reads, client/delayed-echo, client/resplit-echo).
 *
 * Otherwise line-client.c.
 * Build: gcc -Wall -Wextra -O2 -o printf-unterminated printf-unterminated.c
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
		printf("%s", reply);
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
