/* Faulty: serves one client at a time, so concurrent clients wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 512) < 0) return 1;
    char buf[65536];
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        for (;;) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            ssize_t off = 0;
            while (off < n) {
                ssize_t w = write(c, buf + off, (size_t)(n - off));
                if (w <= 0) break;
                off += w;
            }
            if (off < n) break;
        }
        close(c);
    }
}
