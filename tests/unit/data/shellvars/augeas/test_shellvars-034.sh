if [ -f /etc/default/keyboard ]; then
. /etc/default/keyboard
fi
