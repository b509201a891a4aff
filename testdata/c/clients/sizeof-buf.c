/*
 * sizeof-buf.c - FAULTY: sends the whole buffer, sizeof buf bytes.
 *
 * Usage: sizeof-buf HOST WORD [PORT]
 *
 * Fault (sizeof instead of strlen): the word is copied into a char msg[64]
 * and the client sends sizeof msg bytes, the word and the NUL padding after
 * it, then reads 64 bytes back.  It prints the right word, but every message
 * is 64 bytes long whatever the word.
 *
 * Must fail: client/sends-exact (64 bytes, zero-padded, whatever the word).
 *
 * Otherwise the textbook arg-client.c.
 * Build: gcc -Wall -Wextra -O2 -o sizeof-buf sizeof-buf.c
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
		ssize_t w = send(fd, p, n, 0);
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
	const char *port = "7";
	struct timeval tv = {RECV_TIMEOUT_S, 0};
	char *buf, msg[64];
	size_t len, got = 0;
	int fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s HOST WORD [PORT]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		port = argv[3];
	signal(SIGPIPE, SIG_IGN);
	fd = dial(argv[1], port);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	memset(msg, 0, sizeof msg);
	strncpy(msg, argv[2], sizeof msg - 1);
	len = sizeof msg;
	if (send_all(fd, msg, len) < 0) {
		fprintf(stderr, "client: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	buf = malloc(len + 1);
	if (buf == NULL) {
		fprintf(stderr, "client: out of memory\n");
		close(fd);
		return 1;
	}
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
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
	buf[len] = '\0';
	close(fd);
	printf("Received: %s\n", buf);
	free(buf);
	if (fflush(stdout) == EOF) {
		perror("client: stdout");
		return 1;
	}
	return 0;
fail:
	free(buf);
	close(fd);
	return 1;
}
