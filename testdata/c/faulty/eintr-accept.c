/*
 * eintr-accept.c - FAULTY: the first child's exit ends the server.
 *
 * Fault (accept fails with EINTR after SIGCHLD): the author reaps children
 * properly, with a SIGCHLD handler looping on waitpid(WNOHANG), but
 * installs it with sigaction() and sa_flags = 0, so system calls are not
 * restarted.  When the first client leaves, its child exits, SIGCHLD
 * interrupts the parent's accept(), which fails with EINTR, and the accept
 * loop treats every failure as fatal: the server exits.  Tested with one
 * client at a time it looks fine, since it dies between clients.
 *
 * Must be caught by: robustness/server-alive (the server process ends)
 * and robustness/sequential-connections (refused after the first
 * connection).  Every check that runs after the first connection ends may
 * fail as well (refused), depending on the order checks run in.
 *
 * Build: gcc -Wall -Wextra -O2 -o eintr-accept eintr-accept.c
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
#include <unistd.h>

static void sig_chld(int signo)
{
	pid_t pid;
	int stat;

	(void)signo;
	while ((pid = waitpid(-1, &stat, WNOHANG)) > 0)
		;
}

static void str_echo(int sockfd)
{
	char buf[8192];
	ssize_t n;

again:
	while ((n = read(sockfd, buf, sizeof buf)) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = write(sockfd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return;
			off += w;
		}
	}
	if (n < 0 && errno == EINTR)
		goto again;
}

int main(int argc, char **argv)
{
	int listenfd, connfd, on = 1;
	struct sockaddr_in servaddr;
	struct sigaction act;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		exit(1);
	}
	act.sa_handler = sig_chld;
	sigemptyset(&act.sa_mask);
	act.sa_flags = 0;
	sigaction(SIGCHLD, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons(atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0) {
		perror("bind");
		exit(1);
	}
	listen(listenfd, SOMAXCONN);

	for (;;) {
		if ((connfd = accept(listenfd, NULL, NULL)) < 0) {
			perror("accept error");
			exit(1);
		}
		if (fork() == 0) {
			close(listenfd);
			str_echo(connfd);
			close(connfd);
			exit(0);
		}
		close(connfd);
	}
}
