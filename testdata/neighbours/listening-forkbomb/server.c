/* Hostile: listens on the given port, then forks without end and never
 * accepts. It stays alive for the whole of its grading, so a submission
 * graded beside it (-j 2) meets the bomb at full strength: the cgroup's
 * process limit and CPU cap must keep it from taking the neighbour's
 * processes or CPU. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 512) < 0) return 1;
    for (;;) fork();
}
