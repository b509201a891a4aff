/* Hostile: a fork bomb. The process limit must contain it. */
#include <unistd.h>

int main(void) {
    for (;;) fork();
}
