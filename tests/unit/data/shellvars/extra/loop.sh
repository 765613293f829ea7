for i in 1 2; do
  FOO=$i
done
BAR=1
