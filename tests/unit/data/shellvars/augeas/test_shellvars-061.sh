# foo
  #
  #
  foo=bar
  #
