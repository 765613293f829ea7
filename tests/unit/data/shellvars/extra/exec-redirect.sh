A=1
exec 3>/dev/null
B="two words"
