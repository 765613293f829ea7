export TestVar1 TestVar2
