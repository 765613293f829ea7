alias ls-options='ls $LS_OPTIONS'
