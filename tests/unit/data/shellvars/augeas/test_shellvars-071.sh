VAR=value
VAR2=abc
