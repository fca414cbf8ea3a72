/* glue_expr.c - being written */
