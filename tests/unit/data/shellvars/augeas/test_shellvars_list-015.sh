GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
