FOO=``bar``
