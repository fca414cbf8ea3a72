/* glue_partition.c - being written */
