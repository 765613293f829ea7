var="foo 'bar'"
