# 
foo=bar
