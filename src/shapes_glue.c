/* shapes_glue.c - being written */
