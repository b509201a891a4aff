/*
 * newline.c - FAULTY: appends a newline to every chunk that lacks one.
 *
 * Fault (alters the bytes, adds bytes): the author tested with telnet and
 * nc and wanted every echo on its own line, so after sending what recv()
 * returned, the server sends "\n" whenever the chunk did not already end
 * with one.  A line-oriented test ("hello\n") passes; anything else gets
 * extra newlines, wherever recv() happens to split the stream.
 *
 * Must be caught by: basic/line-endings, basic/all-byte-values,
 * basic/many-messages and partial/prompt-echo (extra bytes), and every
 * check whose payload does not end each read with a newline.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o newline newline.c
 */
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int sendall(int s, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(s, p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void sigchld(int s)
{
	int e = errno;
	(void)s;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	int lfd, yes = 1;
	struct sigaction sa;

	if (argc != 2) {
		fprintf(stderr, "usage: newline <port>\n");
		return 1;
	}
	sa.sa_handler = sigchld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(PF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
	bzero(&sin, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(lfd, 100) == -1) {
		perror("bind");
		return 1;
	}
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd == -1)
			continue;
		if (!fork()) {
			char buf[2048];
			ssize_t n;

			close(lfd);
			while ((n = recv(cfd, buf, sizeof buf, 0)) > 0) {
				if (sendall(cfd, buf, n) == -1)
					break;
				/* keep the client's terminal tidy */
				if (buf[n - 1] != '\n' && sendall(cfd, "\n", 1) == -1)
					break;
			}
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
