/* crawl.c - being written */
