/* crawler.c - being written */
