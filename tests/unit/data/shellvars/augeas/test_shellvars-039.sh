foo() {
  . /tmp/bar
  }
