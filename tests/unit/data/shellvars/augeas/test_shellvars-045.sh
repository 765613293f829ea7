case $a in
  *)
  ;;
  esac
