/* test_glue_expr.c - not written yet: fails until it is. */
#include <stdio.h>
int main(void) { fputs("test_glue_expr: not written yet\n", stderr); return 1; }
