FOO='multi
line ; value'
BAR="$(echo 'x)' )"
