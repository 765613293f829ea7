grep -q "Debian" /etc/issue || echo baa
