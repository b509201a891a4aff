/*
 * flood.c - MISBEHAVING fixture: sends an endless stream to every client.
 *
 * For the runner's own tests: as soon as a client connects, a child process
 * writes "flood " to it in a loop, forever, whatever the client sends, and
 * never reads.  The runner must bound what it reads, report extra bytes
 * rather than buffer without limit, and still finish on time.  A child
 * stops only when its client goes away (the write fails, or SIGPIPE ends
 * it).
 *
 * Expected: basic/no-greeting and every echo check fail (extra or wrong
 * bytes, or a timeout when the flood fills the socket in both directions).
 *
 * Build: gcc -Wall -Wextra -O2 -o flood flood.c
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

int main(int argc, char **argv)
{
	static char chunk[4096];
	struct sockaddr_in addr;
	struct sigaction sa;
	int lfd, on = 1;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = "flood "[i % 6];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);

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
			while (write(cfd, chunk, sizeof chunk) > 0)
				;
			_exit(0);
		}
		close(cfd);
	}
}
