/*
 * echo-server.c - the classic fork-per-client TCP echo server (RFC 862).
 *
 * Usage: echo-server PORT
 *
 * Listens on 127.0.0.1:PORT (SO_REUSEADDR), accepts in a loop and forks a
 * child for every client.  The child copies everything it receives back to
 * the client until the client closes its side (EOF), then closes the
 * connection with a FIN and exits.  The parent closes its copy of the
 * client's descriptor at once, so the child owns the connection.
 *
 * Correctness points, each one a classic student bug elsewhere in the
 * gallery:
 *   - send() may write fewer bytes than asked: send_all() loops;
 *   - recv() and send() may fail with EINTR: both are retried;
 *   - children are reaped by a SIGCHLD handler that calls
 *     waitpid(-1, ..., WNOHANG) in a loop (one signal may stand for
 *     several exited children), saving and restoring errno;
 *   - the handler is installed with SA_RESTART, and accept() is retried on
 *     EINTR anyway (not every system call restarts);
 *   - SIGPIPE is ignored so a client that vanishes mid-echo only ends its
 *     own child with EPIPE;
 *   - the data is treated as bytes, never as a C string.
 *
 * Build: gcc -Wall -Wextra -O2 -o echo-server echo-server.c
 * Expected result in the conformance suite: conformant (every MUST and
 * SHOULD check passes).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUFSIZE 16384

static void sigchld_handler(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* send_all writes all len bytes of buf, retrying short sends and EINTR. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* echo copies the client's bytes back until EOF or an error. */
static void echo(int fd)
{
	char buf[BUFSIZE];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n == 0)
			return; /* the client closed its side */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recv");
			return;
		}
		if (send_all(fd, buf, (size_t)n) < 0) {
			perror("send");
			return;
		}
	}
}

static int listen_on(const char *port_arg)
{
	struct sockaddr_in addr;
	char *end;
	long port;
	int fd, on = 1;

	port = strtol(port_arg, &end, 10);
	if (*port_arg == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "echo-server: bad port %s\n", port_arg);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("socket");
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
		perror("setsockopt");
		close(fd);
		return -1;
	}
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		close(fd);
		return -1;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		perror("listen");
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int listenfd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sigchld_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	listenfd = listen_on(argv[1]);
	if (listenfd < 0)
		return 1;

	for (;;) {
		struct sockaddr_in cli;
		socklen_t clilen = sizeof cli;
		pid_t pid;
		int connfd;

		connfd = accept(listenfd, (struct sockaddr *)&cli, &clilen);
		if (connfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors or memory: let children finish, then retry. */
				struct timespec pause_ts = { 0, 100 * 1000 * 1000 };
				nanosleep(&pause_ts, NULL);
				continue;
			}
			return 1;
		}

		pid = fork();
		if (pid < 0) {
			perror("fork");
			close(connfd);
			continue;
		}
		if (pid == 0) {
			close(listenfd);
			echo(connfd);
			close(connfd);
			_exit(0);
		}
		close(connfd);
	}
}
