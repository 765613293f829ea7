var=ab; #c
