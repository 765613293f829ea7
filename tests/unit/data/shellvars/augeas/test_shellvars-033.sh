VAR1="this;is;a;test"
VAR2=this;
