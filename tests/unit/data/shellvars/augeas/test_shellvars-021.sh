var=ab # this is a var
