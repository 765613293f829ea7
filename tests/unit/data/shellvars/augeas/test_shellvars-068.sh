export MALLOC_PERTURB_=$(($RANDOM % 255 + 1))
