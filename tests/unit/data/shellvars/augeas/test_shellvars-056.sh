foo=bar
# 

