/* athena_catalog.c - being written */
