 # a comment
VAR=value
