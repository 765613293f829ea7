echo foo 2>&1 >/dev/null
