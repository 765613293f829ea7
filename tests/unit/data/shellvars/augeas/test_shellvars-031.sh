exit
exit 2
