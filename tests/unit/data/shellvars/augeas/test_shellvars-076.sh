for x in "$@"; do y=$x; done
