case x in
  x) FOO=case ;;
esac
BAR="a;b"
