unset ${!LC_*}
