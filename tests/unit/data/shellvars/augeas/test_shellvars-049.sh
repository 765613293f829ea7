FOO=`bar=date;$bar`
