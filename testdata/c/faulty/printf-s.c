/*
 * printf-s.c - FAULTY: echoes through stdio with fprintf("%s").
 *
 * Fault (NUL bytes cut the data short): each client is wrapped in a FILE*
 * (fdopen) and every chunk read is NUL-terminated and echoed with
 * fprintf(out, "%s", buf) followed by fflush.  A NUL byte ends the "string",
 * so the rest of that chunk is never echoed.  The stream is flushed after
 * every chunk, so echo is still prompt and text passes every test.
 *
 * Must be caught by: basic/all-byte-values (bytes missing after the NUL);
 * also every check with random binary payloads (large/1mib and others).
 *
 * Otherwise a sound thread-per-client server.
 * Build: gcc -Wall -Wextra -O2 -pthread -o printf-s printf-s.c
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

static void *client_thread(void *arg)
{
	int fd = (int)(long)arg;
	FILE *out = fdopen(dup(fd), "w");
	char buf[1025];
	ssize_t n;

	if (out == NULL) {
		close(fd);
		return NULL;
	}
	while ((n = read(fd, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		fprintf(out, "%s", buf);
		if (fflush(out) == EOF)
			break;
	}
	fclose(out);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int s, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s port\n", argv[0]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(atoi(argv[1]));
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 128) < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		pthread_t t;
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (pthread_create(&t, NULL, client_thread, (void *)(long)c) != 0) {
			close(c);
			continue;
		}
		pthread_detach(t);
	}
}
