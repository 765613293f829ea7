var="ab#c"
