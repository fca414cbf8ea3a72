/* test_schema.c - not written yet: fails until it is. */
#include <stdio.h>
int main(void) { fputs("test_schema: not written yet\n", stderr); return 1; }
