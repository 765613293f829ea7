var=(v1 v2   
    	 v3)
