VAR='test"1 test2'
