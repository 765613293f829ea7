
  
VAR=value
