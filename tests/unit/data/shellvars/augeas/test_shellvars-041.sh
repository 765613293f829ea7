foo() (
  . /tmp/bar
  )
