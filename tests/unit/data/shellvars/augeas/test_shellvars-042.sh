case $f in
  a)
    B=C
    ;;

  esac
