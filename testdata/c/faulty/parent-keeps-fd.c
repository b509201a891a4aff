/*
 * parent-keeps-fd.c - FAULTY: the parent never closes the client's
 * descriptor after fork().
 *
 * Fault (parent keeps the client's fd): the child echoes until EOF and
 * closes its copy, but the parent still holds another copy of the same
 * socket, so the connection is never really closed: the client gets all
 * its echo and then waits for a FIN that never comes.  The parent leaks one
 * descriptor per connection (and every later child inherits the leaked
 * ones); at the fd limit accept() fails with EMFILE and the server only
 * logs the error, retrying every 100 ms, serving no one.
 *
 * Must be caught by: halfclose/no-data, halfclose/small-pending,
 * halfclose/large-pending (no EOF) and robustness/sequential-connections;
 * robustness/fd-stable warns.
 *
 * Build: gcc -Wall -Wextra -O2 -o parent-keeps-fd parent-keeps-fd.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUFLEN 4096

static void sigchld_handler(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void do_echo(int connfd)
{
	char buf[BUFLEN];
	ssize_t n;

	while ((n = recv(connfd, buf, BUFLEN, 0)) > 0 || (n < 0 && errno == EINTR)) {
		ssize_t sent = 0;
		while (sent < n) {
			ssize_t k = send(connfd, buf + sent, (size_t)(n - sent), 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			sent += k;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int listenfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sigchld_handler;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listenfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		pid_t pid;
		int connfd = accept(listenfd, NULL, NULL);

		if (connfd < 0) {
			struct timespec backoff = { 0, 100 * 1000 * 1000 };
			if (errno == EINTR)
				continue;
			perror("accept");
			nanosleep(&backoff, NULL);
			continue;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			continue;
		}
		if (pid == 0) {
			close(listenfd);
			do_echo(connfd);
			close(connfd);
			exit(0);
		}
		/* parent: back to accept() for the next client */
	}
}
