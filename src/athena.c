/* athena.c - being written */
#include "athena.h"
fl_handler_fn fl_athena_handler(const char *op) { (void)op; return NULL; }
