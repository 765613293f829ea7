VAR=test
