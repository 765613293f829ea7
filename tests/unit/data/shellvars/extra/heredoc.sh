FOO=1
cat >/dev/null <<EOF
FOO=heredoc
BAR=heredoc
EOF
BAR=5
