/*
 * thread-sigpipe.c - FAULTY: a thread-per-client server that SIGPIPE kills
 * when a client leaves while its thread is blocked writing.
 *
 * Fault (SIGPIPE not ignored, thread design): a tidy thread-per-client
 * server (its own buffer per thread, the descriptor passed in a malloc'd
 * int) whose loop is the textbook one: read(), then write() what was read,
 * and stop on an error.  It never ignores SIGPIPE.  A client that sends a
 * lot without reading leaves its thread blocked in write(); when that
 * client goes away, the write (or the next one) raises SIGPIPE, which kills
 * the whole process with every other client's connection.
 *
 * Must be caught by: robustness/reset-pending-write (the server process
 * dies of SIGPIPE) and robustness/server-alive.  The other robustness
 * checks that make clients leave mid-echo may fail too.
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o thread-sigpipe thread-sigpipe.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
	int fd = *(int *)arg;
	char buf[8192];
	ssize_t n;

	free(arg);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (write(fd, buf, (size_t)n) < 0)
			break;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		pthread_t t;
		int *fd = malloc(sizeof *fd);

		if (fd == NULL)
			return 1;
		*fd = accept(lfd, NULL, NULL);
		if (*fd < 0) {
			free(fd);
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("accept");
			return 1;
		}
		if (pthread_create(&t, NULL, serve, fd) != 0) {
			close(*fd);
			free(fd);
			continue;
		}
		pthread_detach(t);
	}
}
