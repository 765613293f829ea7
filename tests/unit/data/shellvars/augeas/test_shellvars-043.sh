case $f in

  a)
    B=C
    ;;

  b)
    A=D
    ;;
  esac
