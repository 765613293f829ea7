FOO=$(echo `date`)
