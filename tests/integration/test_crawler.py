import sys
sys.exit("test_crawler: not written yet")
