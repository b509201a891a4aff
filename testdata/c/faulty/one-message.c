/*
 * one-message.c - FAULTY: closes the connection after one message.
 *
 * Fault (closes after one message): each connection is treated as one
 * request: read once, write it back, close.  Because the client's later
 * bytes are still unread when close() runs, Linux answers them with a
 * reset.  Tests that send one short message and read one reply pass.
 *
 * Must be caught by: basic/many-messages (early EOF or reset after the
 * first message), partial/odd-sizes, partial/paused-writes and the large
 * transfers; partial/single-byte-writes too, unless the first read happens
 * to hold every byte.
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o one-message one-message.c
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

static void handle_sigchld(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int listener, opt = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handle_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		return 1;
	}
	listen(listener, 128);

	for (;;) {
		int conn = accept(listener, NULL, NULL);
		if (conn < 0)
			continue;
		if (fork() == 0) {
			char msg[4096];
			ssize_t len, off = 0;

			close(listener);
			len = recv(conn, msg, sizeof msg, 0);
			while (len > 0 && off < len) {
				ssize_t n = send(conn, msg + off, (size_t)(len - off), 0);
				if (n < 0)
					break;
				off += n;
			}
			close(conn);
			exit(0);
		}
		close(conn);
	}
}
