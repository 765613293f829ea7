var=(v1 v2)
