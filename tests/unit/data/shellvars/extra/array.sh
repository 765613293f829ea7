FOO=(a b c)
BAR=x
