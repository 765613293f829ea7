var='Some "funny" value'
