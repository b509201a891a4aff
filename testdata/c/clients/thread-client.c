/*
 * thread-client.c - a stream echo client with two threads: one copies
 * stdin to the server, the other the echo to stdout.
 *
 * Usage: thread-client HOST PORT
 *
 * The sender thread writes all of stdin (looping on short writes), then
 * half-closes with shutdown(SHUT_WR).  The main thread copies the echo to
 * stdout until the server closes, then joins the sender.  It exits 0 when
 * every byte sent came back; a server that closes early, resets, or stays
 * silent for 5 s (SO_RCVTIMEO, SO_SNDTIMEO) ends it with a message on
 * stderr and exit status 1.  Bad usage: exit status 2.
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o thread-client thread-client.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_S 5
#define BUFSIZE 65536

struct sender {
	int fd;
	long long sent;
	int err; /* errno of a failed read or write, 0 if none */
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	static char buf[BUFSIZE];

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->err = errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(s->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				s->err = errno;
				return NULL;
			}
			off += w;
			s->sent += w;
		}
	}
	if (shutdown(s->fd, SHUT_WR) < 0 && s->err == 0)
		s->err = errno;
	return NULL;
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
		fprintf(stderr, "client: %s:%s: %s\n", host, port, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "client: cannot connect to %s:%s\n", host, port);
	return fd;
}

int main(int argc, char **argv)
{
	static char buf[BUFSIZE];
	struct timeval tv = {TIMEOUT_S, 0};
	struct sender s = {0};
	pthread_t t;
	long long received = 0;
	int status = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	s.fd = dial(argv[1], argv[2]);
	if (s.fd < 0)
		return 1;
	setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (pthread_create(&t, NULL, send_all, &s) != 0) {
		fprintf(stderr, "client: cannot start the sender thread\n");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(s.fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "client: recv: %s\n", errno == EAGAIN ? "no echo for 5 s" : strerror(errno));
			status = 1;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			perror("client: write to stdout");
			status = 1;
			break;
		}
		received += n;
	}
	/* Unblocks a sender stuck in send() once the receiver has given up. */
	shutdown(s.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	if (s.err != 0 && status == 0) {
		fprintf(stderr, "client: send: %s\n", strerror(s.err));
		status = 1;
	}
	if (status == 0 && received < s.sent) {
		fprintf(stderr, "client: the server closed after echoing %lld of %lld bytes\n", received, s.sent);
		status = 1;
	}
	close(s.fd);
	if (fflush(stdout) != 0) {
		perror("client: stdout");
		status = 1;
	}
	return status;
}
