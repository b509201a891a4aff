/*
 * fixed-64k.c - FAULTY: one fixed 64 KiB buffer for the whole connection.
 *
 * Fault (truncates large payloads): the author keeps the whole conversation
 * in a static 64 KiB array "to log it at the end", receiving each chunk at
 * buf + total and echoing it from there.  Once 65536 bytes have arrived the
 * space left is zero, recv(fd, p, 0, 0) returns 0, the loop takes that for
 * EOF and closes, with the client's later bytes still unread (so the close
 * is a reset).  Everything under 64 KiB per connection works perfectly.
 *
 * Must be caught by: partial/buffer-boundaries (65537 bytes), large/1mib,
 * large/16mib, large/64mib, large/slow-reader, halfclose/large-pending.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o fixed-64k fixed-64k.c
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

#define CONV_MAX 65536

static char conversation[CONV_MAX];

static void on_sigchld(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void talk(int fd)
{
	size_t total = 0;

	for (;;) {
		char *chunk = conversation + total;
		size_t sent = 0;
		ssize_t n = recv(fd, chunk, CONV_MAX - total, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (sent < (size_t)n) {
			ssize_t w = send(fd, chunk + sent, (size_t)n - sent, 0);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			sent += (size_t)w;
		}
		total += (size_t)n;
	}
	fprintf(stderr, "connection done, %zu bytes\n", total);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			talk(cfd);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
