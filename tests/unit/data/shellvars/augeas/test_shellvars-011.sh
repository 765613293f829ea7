var=ab#c
