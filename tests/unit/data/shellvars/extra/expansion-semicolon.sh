FOO=${X:-a;b}
BAR=1
