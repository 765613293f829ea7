VAR="test'1 test2 a\ \"longer\"\ test"
