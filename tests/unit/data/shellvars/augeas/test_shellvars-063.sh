BLAH=" \
test \
test2"
