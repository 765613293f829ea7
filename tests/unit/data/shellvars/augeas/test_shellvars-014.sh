var=ab; #d
