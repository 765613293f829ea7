FOO=$(bar=date;$bar)
