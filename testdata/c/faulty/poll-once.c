/*
 * poll-once.c - FAULTY: a poll() server that echoes one read per client
 * and then closes the connection.
 *
 * Fault (closes after its first read): each client is treated as one
 * request: when its socket is readable, the server reads once, writes the
 * bytes back and closes.  A client that sends more than one read's worth,
 * or sends in pieces, gets an early EOF, or a reset when its later bytes
 * arrive after the close.  Unlike one-message.c, it is a single process
 * that multiplexes its clients with poll().
 *
 * Must be caught by: basic/many-messages, partial/single-byte-writes,
 * partial/odd-sizes, partial/paused-writes and the large transfers (early
 * EOF or reset after the first read).
 *
 * Otherwise sound: SIGPIPE ignored, short writes retried, no children.
 * Build: gcc -Wall -Wextra -O2 -o poll-once poll-once.c
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCLIENTS 1000

int main(int argc, char **argv)
{
	static struct pollfd fds[MAXCLIENTS + 1];
	struct sockaddr_in addr;
	int listener, opt = 1, n = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
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
	fds[0].fd = listener;
	fds[0].events = POLLIN;

	for (;;) {
		int i;

		if (poll(fds, (nfds_t)n, -1) < 0)
			continue;
		if ((fds[0].revents & POLLIN) && n <= MAXCLIENTS) {
			int conn = accept(listener, NULL, NULL);
			if (conn >= 0) {
				fds[n].fd = conn;
				fds[n].events = POLLIN;
				fds[n].revents = 0;
				n++;
			}
		}
		for (i = 1; i < n; i++) {
			char buf[4096];
			ssize_t len, off = 0;

			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			len = read(fds[i].fd, buf, sizeof buf);
			while (len > 0 && off < len) {
				ssize_t w = write(fds[i].fd, buf + off, (size_t)(len - off));
				if (w < 0)
					break;
				off += w;
			}
			close(fds[i].fd); /* one request per connection */
			fds[i] = fds[n - 1];
			n--;
			i--;
		}
	}
}
