/* awsshape.c - being written */
