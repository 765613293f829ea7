VAR=test1
