# Some comment
MODULES_LOADED_ON_BOOT="ipv6 sunrpc"

DEFAULT_APPEND="showopts noresume console=tty0 console=ttyS0,115200n8 ro"

LOADER_TYPE="grub"
