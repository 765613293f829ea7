var=()
