VAR="test1	  
test2"
