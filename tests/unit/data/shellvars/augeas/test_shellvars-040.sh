function foo () {
  . /tmp/bar
  }
