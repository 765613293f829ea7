case "${options}" in
*debug*)
  shift
  ;;
esac
