/* test_awsshape.c - not written yet: fails until it is. */
#include <stdio.h>
int main(void) { fputs("test_awsshape: not written yet\n", stderr); return 1; }
