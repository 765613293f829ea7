MyFunc() { echo; }
