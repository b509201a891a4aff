/*
 * thread-server.c - a thread-per-client TCP echo server using pthreads.
 *
 * Usage: thread-server PORT
 *
 * The main thread accepts; every client gets a detached thread that copies
 * the client's bytes back until EOF and then closes the connection.  The
 * connection's descriptor is handed to the thread in its own malloc'd int,
 * so the main thread's next accept() cannot overwrite it (the "&connfd"
 * race).  Each thread has its own buffer on its own stack.  Short sends and
 * EINTR are retried; SIGPIPE is ignored.
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o thread-server thread-server.c
 * Expected result in the conformance suite: conformant.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSIZE 16384

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, 0);
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

static void *serve(void *arg)
{
	int fd = *(int *)arg;
	char buf[BUFSIZE];

	free(arg);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (send_all(fd, buf, (size_t)n) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static int listen_on(const char *port_arg)
{
	struct sockaddr_in addr;
	char *end;
	long port;
	int fd, on = 1;

	port = strtol(port_arg, &end, 10);
	if (*port_arg == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "thread-server: bad port %s\n", port_arg);
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
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0) {
		perror("bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	int listenfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	listenfd = listen_on(argv[1]);
	if (listenfd < 0)
		return 1;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* 16 KiB of buffer per thread: a 256 KiB stack is plenty. */
	pthread_attr_setstacksize(&attr, 256 * 1024);

	for (;;) {
		pthread_t tid;
		int *fdp, err;
		int connfd = accept(listenfd, NULL, NULL);

		if (connfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
				struct timespec ts = { 0, 100 * 1000 * 1000 };
				nanosleep(&ts, NULL);
				continue;
			}
			return 1;
		}
		fdp = malloc(sizeof *fdp);
		if (fdp == NULL) {
			close(connfd);
			continue;
		}
		*fdp = connfd;
		err = pthread_create(&tid, &attr, serve, fdp);
		if (err != 0) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			free(fdp);
			close(connfd);
		}
	}
}
