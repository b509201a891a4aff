/*
 * cstring.c - FAULTY: treats the data as a C string.
 *
 * Fault (NUL bytes cut the data short): the author NUL-terminates what
 * recv() returned and sends strlen(buf) bytes, a habit from string
 * exercises.  Text passes; the first NUL byte of a chunk ends that chunk's
 * echo, and everything after it in the chunk is lost.
 *
 * Must be caught by: basic/all-byte-values (bytes missing after the NUL);
 * also any check whose payload contains a NUL byte (large/1mib and the
 * other random binary payloads).
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o cstring cstring.c
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

#define BUF_SIZE 1024

static void reaper(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static void client_loop(int fd)
{
	char buffer[BUF_SIZE];
	ssize_t bytes;

	while ((bytes = recv(fd, buffer, BUF_SIZE - 1, 0)) > 0) {
		size_t len, sent = 0;

		buffer[bytes] = '\0';
		len = strlen(buffer);
		while (sent < len) {
			ssize_t n = send(fd, buffer + sent, len - sent, 0);
			if (n <= 0)
				return;
			sent += (size_t)n;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in server;
	struct sigaction sa;
	int server_fd, reuse = 1;

	if (argc != 2) {
		printf("Usage: %s <port>\n", argv[0]);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = reaper;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((server_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		perror("socket");
		return 1;
	}
	setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
	memset(&server, 0, sizeof server);
	server.sin_family = AF_INET;
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.sin_port = htons(atoi(argv[1]));
	if (bind(server_fd, (struct sockaddr *)&server, sizeof server) < 0) {
		perror("bind");
		return 1;
	}
	if (listen(server_fd, 64) < 0) {
		perror("listen");
		return 1;
	}
	while (1) {
		int client_fd = accept(server_fd, NULL, NULL);
		if (client_fd < 0) {
			if (errno != EINTR)
				perror("accept");
			continue;
		}
		switch (fork()) {
		case -1:
			perror("fork");
			break;
		case 0:
			close(server_fd);
			client_loop(client_fd);
			close(client_fd);
			exit(0);
		}
		close(client_fd);
	}
}
