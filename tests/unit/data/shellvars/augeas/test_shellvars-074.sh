[ -f $FILENAME ]
