#include <stdio.h>

/* Prints a greeting. */
int main(void)
{
    const char *who = "world";  // the audience
    printf("hello, %s! %d\n", who, 6 * 7);
    return 0;
}
