var=ab
