ESSID='Joe'"'"'s net'
