/*
 * full-buffer.c - FAULTY: waits for a full buffer before echoing.
 *
 * Fault (waits for a full buffer): the author's readn() helper, copied from
 * a textbook, loops until it has read exactly the number of bytes asked
 * for, and the server asks for a whole 1024-byte block each time.  Bytes
 * are echoed only in 1024-byte blocks, or when the client half-closes
 * (readn returns the short tail at EOF).  Nothing is altered.
 *
 * Must be caught by: partial/prompt-echo, basic/small-message and any check
 * that waits for the echo of less than 1024 bytes before sending more
 * (basic/many-messages, partial/single-byte-writes, partial/paused-writes).
 *
 * Otherwise a sound fork-per-client server.
 * Build: gcc -Wall -Wextra -O2 -o full-buffer full-buffer.c
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

#define BLOCK 1024

/* readn reads n bytes unless EOF or an error comes first. */
static ssize_t readn(int fd, void *vptr, size_t n)
{
	size_t nleft = n;
	char *ptr = vptr;

	while (nleft > 0) {
		ssize_t nread = read(fd, ptr, nleft);
		if (nread < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (nread == 0)
			break; /* EOF */
		nleft -= (size_t)nread;
		ptr += nread;
	}
	return (ssize_t)(n - nleft);
}

/* writen writes n bytes, retrying short writes. */
static ssize_t writen(int fd, const void *vptr, size_t n)
{
	size_t nleft = n;
	const char *ptr = vptr;

	while (nleft > 0) {
		ssize_t nwritten = write(fd, ptr, nleft);
		if (nwritten <= 0) {
			if (nwritten < 0 && errno == EINTR)
				continue;
			return -1;
		}
		nleft -= (size_t)nwritten;
		ptr += nwritten;
	}
	return (ssize_t)n;
}

static void sig_chld(int signo)
{
	int saved = errno;
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(int argc, char **argv)
{
	struct sockaddr_in servaddr;
	struct sigaction sa;
	int listenfd, on = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		exit(1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_chld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	listenfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	memset(&servaddr, 0, sizeof servaddr);
	servaddr.sin_family = AF_INET;
	servaddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	servaddr.sin_port = htons(atoi(argv[1]));
	if (bind(listenfd, (struct sockaddr *)&servaddr, sizeof servaddr) < 0) {
		perror("bind");
		exit(1);
	}
	listen(listenfd, SOMAXCONN);
	for (;;) {
		int connfd = accept(listenfd, NULL, NULL);
		if (connfd < 0)
			continue;
		if (fork() == 0) {
			char buf[BLOCK];
			ssize_t n;

			close(listenfd);
			while ((n = readn(connfd, buf, BLOCK)) > 0)
				if (writen(connfd, buf, (size_t)n) < 0)
					break;
			close(connfd);
			exit(0);
		}
		close(connfd);
	}
}
