VAR2=abc
