var=ab #c
