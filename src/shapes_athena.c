/* shapes_athena.c - being written */
