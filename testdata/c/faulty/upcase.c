/*
 * upcase.c - FAULTY: an echo server that upper-cases what it echoes.
 *
 * Fault (alters the bytes): the author started from a "shout server"
 * exercise and left the toupper() loop in.  Every lower-case ASCII letter
 * comes back upper-cased; other bytes pass unchanged, so a test with digits
 * only would miss it.
 *
 * Must be caught by: basic/small-message and basic/all-byte-values (wrong
 * bytes, diagnosis "altered"), and every other check whose payload holds a
 * lower-case letter.
 *
 * Otherwise this is a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o upcase upcase.c
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void handle(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
		ssize_t i, off = 0;

		for (i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		while (off < n) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			off += w;
		}
	}
}

int main(int argc, char *argv[])
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int sock, opt = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		exit(1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sock = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		exit(1);
	}
	listen(sock, 128);

	for (;;) {
		int client = accept(sock, NULL, NULL);
		if (client < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			continue;
		}
		if (fork() == 0) {
			close(sock);
			handle(client);
			close(client);
			exit(0);
		}
		close(client);
	}
}
