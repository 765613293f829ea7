FOO=`echo $(date)`
