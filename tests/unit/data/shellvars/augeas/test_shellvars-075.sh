for x in foo \
bar\
baz; do y=$x; done
