FOO=$(echo a; echo b) # two
BAR=3
