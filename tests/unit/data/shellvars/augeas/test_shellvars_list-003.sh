VAR="test1	  
test2 test3"
