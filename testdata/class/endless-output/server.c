/* Hostile: floods stdout and stderr forever and never listens. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char line[4096];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (;;) {
        if (write(1, line, sizeof line) < 0) {}
        if (write(2, line, sizeof line) < 0) {}
    }
}
