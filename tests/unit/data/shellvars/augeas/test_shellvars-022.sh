var=(val1 "val\"2\"" val3)
