var="\""
