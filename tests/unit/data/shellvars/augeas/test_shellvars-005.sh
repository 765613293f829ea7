smartd_opts="-q never"
