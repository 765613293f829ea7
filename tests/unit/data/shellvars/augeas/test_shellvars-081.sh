grep -q "Debian" /etc/issue && DEBIAN=1
