var=val  
