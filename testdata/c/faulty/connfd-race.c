/*
 * connfd-race.c - FAULTY: passes &connfd to the new thread.
 *
 * Fault (the "&connfd" race): the accept loop hands each thread the
 * address of its own connfd variable, and the thread reads it only once it
 * starts running.  When clients arrive faster than threads start, the main
 * thread has already overwritten connfd with the next connection: two
 * threads serve the same socket (and read each other's chunks, each
 * echoing only what it got), while another client is served by no thread
 * at all and never gets an echo.  One client at a time never shows it.
 *
 * Must be caught by: concurrency/many-clients (some clients starve, or get
 * their bytes out of order).  Other checks with parallel connections may
 * also see it.
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o connfd-race connfd-race.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *worker(void *arg)
{
	int connfd;
	char buf[8192];
	ssize_t n;

	pthread_detach(pthread_self());
	connfd = *(int *)arg;
	while ((n = read(connfd, buf, sizeof buf)) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = write(connfd, buf + off, (size_t)(n - off));
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(connfd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in servaddr;
	int listenfd, connfd, on = 1;
	pthread_t tid;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons(atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0 ||
	    listen(listenfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		connfd = accept(listenfd, NULL, NULL);
		if (connfd < 0)
			continue;
		if (pthread_create(&tid, NULL, worker, &connfd) != 0)
			close(connfd);
	}
}
