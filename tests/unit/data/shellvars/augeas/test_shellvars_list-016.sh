service_ping="ping/icmp" #ping
