export FOO
