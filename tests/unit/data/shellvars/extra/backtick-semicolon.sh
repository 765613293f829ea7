FOO=`bar=date;$bar`
BAR=2
