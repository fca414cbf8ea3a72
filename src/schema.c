/* schema.c - being written */
