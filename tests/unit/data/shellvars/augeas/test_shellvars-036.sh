VAR=value # eol-comment
