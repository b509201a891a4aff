/*
 * shared-buffer.c - FAULTY: all threads share one global buffer.
 *
 * Fault (threaded server with a shared buffer): a thread-per-client server
 * whose buffer is a global array (it started as a single-threaded server,
 * and the threads were added later).  Between one thread's recv() into the
 * buffer and its send() from it, another thread may recv() its own
 * client's bytes into the same place, so a client can get back another
 * client's data (or a mix); the log line written between the two widens
 * the window.  With one client at a time the race cannot happen, and every
 * single-client test passes.
 *
 * Must be caught by: concurrency/many-clients (wrong bytes, diagnosis
 * "other-client") or, as the race needs two threads to overlap, by
 * whichever check runs concurrent transfers when they do (large/1mib,
 * large/16mib, large/64mib, large/slow-reader).
 *
 * Build: gcc -Wall -Wextra -O2 -pthread -o shared-buffer shared-buffer.c
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
#include <unistd.h>

#define BUFFER_SIZE 4096

char buffer[BUFFER_SIZE];
int nclients;

static void *client_handler(void *arg)
{
	int sock = (int)(long)arg;
	ssize_t n;

	while ((n = recv(sock, buffer, BUFFER_SIZE, 0)) > 0) {
		ssize_t sent = 0;

		fprintf(stderr, "client %d: %zd bytes\n", sock, n);

		while (sent < n) {
			ssize_t k = send(sock, buffer + sent, (size_t)(n - sent), 0);
			if (k < 0)
				goto done;
			sent += k;
		}
	}
done:
	close(sock);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	int server, opt = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	server = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(atoi(argv[1]));
	if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, SOMAXCONN) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		pthread_t tid;
		int client = accept(server, NULL, NULL);

		if (client < 0) {
			if (errno != EINTR)
				perror("accept");
			continue;
		}
		if (pthread_create(&tid, NULL, client_handler, (void *)(long)client) != 0) {
			perror("pthread_create");
			close(client);
			continue;
		}
		pthread_detach(tid);
		nclients++;
	}
}
