alias ls='ls $LS_OPTIONS'
