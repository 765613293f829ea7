# Some comment
MODULES_LOADED_ON_BOOT="sunrpc"

DEFAULT_APPEND="showopts noresume console=tty0 console=ttyS0,115200n8 ro teststring"

FAILSAVE_APPEND="console=ttyS0"
