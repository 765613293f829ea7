# no final newline
A=1
  export B='two words' # trailing comment
C="multi
line value"
D=a"b"'c'\ d
last=end