/*
 * drop-last.c - FAULTY: drops the last byte of every read.
 *
 * Fault (alters the bytes, drops bytes): the author assumed every read is
 * one line typed in a terminal, stripped the "newline" with
 * buf[n - 1] = '\0' to log it, and then echoed n - 1 bytes.  Under nc the
 * echo merely lacks its newline; in general the last byte of every recv()
 * is lost, wherever the stream happens to be split.
 *
 * Must be caught by: basic/small-message, basic/all-byte-values,
 * basic/line-endings (bytes missing: diagnosis "truncated" or "dropped").
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o drop-last drop-last.c
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

#define MAXLINE 4096

static void on_child(int signo)
{
	int saved_errno = errno;
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved_errno;
}

static void str_echo(int sockfd)
{
	char buf[MAXLINE + 1];
	ssize_t n;

	for (;;) {
		n = read(sockfd, buf, MAXLINE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf[n - 1] = '\0'; /* strip the newline */
		fprintf(stderr, "client said: %.40s\n", buf);
		for (ssize_t off = 0; off < n - 1;) {
			ssize_t w = write(sockfd, buf + off, (size_t)(n - 1 - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			off += w;
		}
	}
}

int main(int argc, char **argv)
{
	int listenfd, connfd, on = 1;
	struct sockaddr_in servaddr;
	struct sigaction act;

	if (argc != 2) {
		fprintf(stderr, "usage: drop-last <port>\n");
		exit(1);
	}
	memset(&act, 0, sizeof act);
	act.sa_handler = on_child;
	act.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons((unsigned short)atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0) {
		perror("bind");
		exit(1);
	}
	listen(listenfd, SOMAXCONN);
	for (;;) {
		if ((connfd = accept(listenfd, NULL, NULL)) < 0)
			continue;
		if (fork() == 0) {
			close(listenfd);
			str_echo(connfd);
			close(connfd);
			exit(0);
		}
		close(connfd);
	}
}
