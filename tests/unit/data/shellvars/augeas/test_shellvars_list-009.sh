VAR=''
