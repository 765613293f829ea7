case $ARG in
        "foo bar")
           Foo=0
           ;;
        baz | quux)
           Foo=1
           ;;
esac
