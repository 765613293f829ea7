VAR=a\ \"long\"\ test
