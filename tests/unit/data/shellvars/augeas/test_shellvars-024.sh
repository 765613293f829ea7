var=value
