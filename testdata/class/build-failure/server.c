/* Faulty: does not compile (a missing semicolon and an undeclared name). */
#include <stdio.h>

int main(void) {
    int port = 7
    printf("%d\n", prot);
    return 0;
}
