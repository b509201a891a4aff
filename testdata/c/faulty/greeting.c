/*
 * greeting.c - FAULTY: greets every client with a banner.
 *
 * Fault (sends a greeting): like many text-protocol servers, it says hello
 * first: "Welcome to the echo server!\r\n" is sent as soon as a client
 * connects, before the client has sent anything.  The echo that follows is
 * perfect, so a human with nc sees nothing wrong; but RFC 862 sends back
 * only what was received, and every client that compares its echo gets 29
 * extra bytes in front.
 *
 * Must be caught by: basic/no-greeting (bytes arrive before any were
 * sent), basic/small-message and basic/all-byte-values (extra bytes).
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o greeting greeting.c
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

static const char banner[] = "Welcome to the echo server!\r\n";

static void reap(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void session(int fd)
{
	char buf[8192];
	ssize_t n;

	if (send_all(fd, banner, sizeof banner - 1) < 0)
		return;
	while ((n = recv(fd, buf, sizeof buf, 0)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (send_all(fd, buf, (size_t)n) < 0)
			return;
	}
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
	sa.sa_handler = reap;
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
			session(cfd);
			close(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
