/*
 * daemon.c - MISBEHAVING fixture: daemonizes, the way daemon(3) does.
 *
 * For the runner's own tests: the program forks, the child calls setsid()
 * and forks again, and the grandchild, in a session and process group of
 * its own, re-parented away from the program that was started, closes its
 * standard streams and serves a correct fork-per-client echo on the port.
 * Killing the started process's group does not reach it: the runner must
 * find and kill it however it detached, and leave nothing running.
 *
 *   daemon PORT        the started process exits at once (as daemon(3)
 *                      callers do): under --exec the server has "exited",
 *                      so every check fails and robustness/server-alive
 *                      says how; the SHOULD checks warn.
 *   daemon PORT stay   the started process stays, waiting, while the
 *                      daemon serves: every check passes, and the daemon
 *                      must still be gone when the runner is.
 *
 * Expected (manifest, "daemon PORT"): verdict fail; every MUST check fails,
 * robustness/no-zombies and fd-stable warn.
 *
 * Build: gcc -Wall -Wextra -O2 -o daemon daemon.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
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

static void serve(int conn)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(conn, buf, sizeof buf)) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = write(conn, buf + off, (size_t)(n - off));
			if (w < 0)
				return;
			off += w;
		}
	}
}

static void run_daemon(const char *port)
{
	struct sockaddr_in addr;
	struct sigaction sa;
	int listener, null, opt = 1;

	if (chdir("/") < 0)
		_exit(1);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
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
	addr.sin_port = htons(atoi(port));
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0)
		_exit(1);
	listen(listener, 128);
	for (;;) {
		int conn = accept(listener, NULL, NULL);
		if (conn < 0)
			continue;
		if (fork() == 0) {
			close(listener);
			serve(conn);
			close(conn);
			_exit(0);
		}
		close(conn);
	}
}

int main(int argc, char **argv)
{
	pid_t child;

	if (argc != 2 && !(argc == 3 && strcmp(argv[2], "stay") == 0)) {
		fprintf(stderr, "usage: %s port [stay]\n", argv[0]);
		return 1;
	}
	printf("starting echo daemon on port %s\n", argv[1]);
	fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		if (setsid() < 0)
			_exit(1);
		if (fork() != 0)
			_exit(0); /* the session leader goes; the daemon is orphaned */
		run_daemon(argv[1]);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	if (argc == 3)
		for (;;)
			pause();
	return 0;
}
