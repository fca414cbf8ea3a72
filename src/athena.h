/*
 * athena.h - the Amazon Athena API (AmazonAthena.<Op>, JSON 1.1).
 *
 * athena.c routes the service; athena_catalog.c answers the catalog views
 * (ListDataCatalogs, GetDataCatalog, ListDatabases, GetDatabase,
 * ListTableMetadata, GetTableMetadata) from the Glue catalog;
 * athena_query.c queues query executions and reads them back (query.h
 * runs them); athena_workgroup.c keeps workgroups and named queries.
 */
#ifndef FL_ATHENA_H
#define FL_ATHENA_H

#include "http.h"

#define FL_ATHENA_CATALOG "AwsDataCatalog"

fl_handler_fn fl_athena_catalog_handler(const char *op);
/* athena_query.c: StartQueryExecution, GetQueryExecution, GetQueryResults,
 * StopQueryExecution, ListQueryExecutions, BatchGetQueryExecution,
 * GetQueryRuntimeStatistics. */
fl_handler_fn fl_athena_query_handler(const char *op);
/* athena_workgroup.c: CreateWorkGroup, GetWorkGroup, ListWorkGroups,
 * UpdateWorkGroup, DeleteWorkGroup, CreateNamedQuery, GetNamedQuery,
 * ListNamedQueries, BatchGetNamedQuery, UpdateNamedQuery, DeleteNamedQuery. */
fl_handler_fn fl_athena_workgroup_handler(const char *op);

#endif
