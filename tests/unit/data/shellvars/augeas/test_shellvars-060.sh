# foo

foo=yes
