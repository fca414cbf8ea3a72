/*
 * athena.h - the Amazon Athena API (AmazonAthena.<Op>, JSON 1.1).
 *
 * athena.c routes the service; athena_catalog.c answers the catalog views
 * (ListDataCatalogs, GetDataCatalog, ListDatabases, GetDatabase,
 * ListTableMetadata, GetTableMetadata) from the Glue catalog.
 */
#ifndef FL_ATHENA_H
#define FL_ATHENA_H

#include "http.h"

#define FL_ATHENA_CATALOG "AwsDataCatalog"

fl_handler_fn fl_athena_catalog_handler(const char *op);

#endif
