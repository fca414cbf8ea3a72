/*
 * athena.c - the router of the Amazon Athena API (AmazonAthena.<Op>).
 *
 * DESIGN: each file of the service answers its own group of operations
 * and exports one lookup (op name -> handler, or NULL).  The router asks
 * them in turn; adding a group (query executions, workgroups ...) is one
 * line in the table below.  An operation nobody answers is NULL here, an
 * UnknownOperationException from http.c.
 */
#include "athena.h"

#include <stddef.h>

static fl_handler_fn (*const groups[])(const char *op) = {
	fl_athena_catalog_handler,  /* athena_catalog.c: data catalogs, databases, tables */
	fl_athena_query_handler,    /* athena_query.c: query executions */
	fl_athena_workgroup_handler, /* athena_workgroup.c: workgroups, named queries */
};

fl_handler_fn fl_athena_handler(const char *op)
{
	if (!op)
		return NULL;
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		fl_handler_fn fn = groups[i](op);
		if (fn)
			return fn;
	}
	return NULL;
}
