case $ARG in
        0) TestVar="test0" ;;
        1) TestVar="test1" ;;
esac
