var=`grep nameserver /etc/resolv.conf | head -1`
