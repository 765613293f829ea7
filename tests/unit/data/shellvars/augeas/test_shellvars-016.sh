var='ab#c'
