/*
 * line-buffered.c - FAULTY: waits for a newline before echoing.
 *
 * Fault (waits for a newline): the client socket is wrapped in stdio
 * streams and echoed line by line with getline() and fwrite().  The data is
 * handled as bytes (getline's length, not strlen), so nothing is altered,
 * but nothing comes back until a '\n' arrives or the client half-closes.
 * Interactive tests with telnet or nc, which send whole lines, all pass.
 *
 * Must be caught by: partial/prompt-echo (a 1-byte message without a
 * newline is never echoed), basic/many-messages, basic/all-byte-values
 * (the bytes after its one newline wait), large/1mib, and
 * basic/line-endings (the payload without a newline).  The larger
 * transfers catch it too when they reach the end of their stream within
 * their time budget, which a busy machine may not allow.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o line-buffered line-buffered.c
 */
#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap_children(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void echo_lines(int fd)
{
	FILE *in = fdopen(fd, "r");
	FILE *out = fdopen(dup(fd), "w");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (in == NULL || out == NULL)
		return;
	while ((len = getline(&line, &cap, in)) > 0) {
		if (fwrite(line, 1, (size_t)len, out) != (size_t)len || fflush(out) == EOF)
			break;
	}
	free(line);
	fclose(out);
	fclose(in);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int srv, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap_children;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		int fd = accept(srv, NULL, NULL);
		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(srv);
			echo_lines(fd);
			_exit(0);
		}
		close(fd);
	}
}
