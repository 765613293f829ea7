var=ab;
