import sys
sys.exit("test_glue: not written yet")
