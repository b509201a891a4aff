/*
 * no-close.c - FAULTY: never closes a connection (a thread-per-client
 * server whose thread forgets close()).
 *
 * Fault (half-close: never closes): when the client half-closes, the
 * thread's read loop ends and the thread returns, but nobody closes the
 * descriptor.  The server never sends its FIN: the client has all its
 * echo but waits for EOF forever.  Descriptors leak one per connection,
 * and once the fd limit is reached accept() fails and the server stops
 * serving new clients.
 *
 * Must be caught by: halfclose/no-data, halfclose/small-pending,
 * halfclose/large-pending (no EOF) and robustness/sequential-connections
 * (no EOF, then no service at the fd limit); robustness/fd-stable warns.
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o no-close no-close.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void *handle_client(void *arg)
{
	int sock = *(int *)arg;
	char buffer[4096];
	ssize_t len;

	free(arg);
	while ((len = recv(sock, buffer, sizeof buffer, 0)) > 0) {
		ssize_t done = 0;
		while (done < len) {
			ssize_t n = send(sock, buffer + done, (size_t)(len - done), 0);
			if (n < 0)
				return NULL;
			done += n;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in server;
	int server_sock, opt = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	server_sock = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(server_sock, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt);
	memset(&server, 0, sizeof server);
	server.sin_family = AF_INET;
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.sin_port = htons(atoi(argv[1]));
	if (bind(server_sock, (struct sockaddr *)&server, sizeof server) < 0) {
		perror("bind failed");
		return 1;
	}
	listen(server_sock, 128);
	printf("waiting for connections...\n");
	fflush(stdout);

	for (;;) {
		pthread_t thread;
		int *client = malloc(sizeof *client);

		if (client == NULL)
			return 1;
		*client = accept(server_sock, NULL, NULL);
		if (*client < 0) {
			struct timespec backoff = { 0, 50 * 1000 * 1000 };
			perror("accept failed");
			free(client);
			nanosleep(&backoff, NULL);
			continue;
		}
		if (pthread_create(&thread, NULL, handle_client, client) != 0) {
			close(*client);
			free(client);
			continue;
		}
		pthread_detach(thread);
	}
}
