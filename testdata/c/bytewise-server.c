/*
 * bytewise-server.c - a correct but slow fork-per-client echo server that
 * moves one byte per read() and write().
 *
 * Usage: bytewise-server PORT
 *
 * The way beginners write it: the child reads one byte into a char, writes
 * that byte back, and loops until read() returns 0.  Every error is
 * handled (EINTR retried, SIGPIPE ignored, children reaped with SA_RESTART,
 * the parent closes the client's descriptor), so every byte comes back,
 * in order, followed by the server's FIN.  It is only slow: two system
 * calls per byte, about 100 to 200 KB/s on a 2-core machine.
 *
 * Build: gcc -Wall -Wextra -O2 -o bytewise-server bytewise-server.c
 * Expected result in the conformance suite: conformant.  Every MUST check
 * passes; the large checks verify what their time budget allows, and the
 * SHOULD check large/throughput warns with the measured rate.
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

static void reap(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void echo(int fd)
{
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n == 0)
			return;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (;;) {
			n = write(fd, &c, 1);
			if (n == 1)
				break;
			if (n < 0 && errno != EINTR)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int lfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

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
		pid_t pid;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
				continue;
			perror("accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			echo(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
