return
return 2
