#!/usr/bin/env bats
# sockctl resolve: against Python's getaddrinfo as an oracle and a real DNS
# server (dnsmasq) inside an isolated namespace, so no lookup leaves the host.
load helper

teardown() { common_teardown; }

# A namespace with only loopback, whose resolv.conf points at a dnsmasq on
# 127.0.0.1 that is authoritative for everything (--local=/#/: unknown names
# get NXDOMAIN, never forwarded).  tutorialspoint.com is a CNAME to a host
# with an A and an AAAA record.
start_dns() {
	ns_add dns
	mkdir -p "/etc/netns/$NS"
	echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
	ip -n "$NS" addr add 198.18.0.1/24 dev lo
	ip -n "$NS" addr add 2001:db8::1/64 dev lo nodad
	bg ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --local=/#/ --listen-address=127.0.0.1 --bind-interfaces \
		--port=53 --user=root --pid-file= \
		--host-record=edge.tutorialspoint.test,198.18.0.80,2001:db8::80 \
		--cname=tutorialspoint.com,edge.tutorialspoint.test \
		--host-record=v4only.test,198.18.0.4 \
		--host-record=v6only.test,2001:db8::6 \
		--ptr-record=99.0.18.198.in-addr.arpa,named99.test
	wait_for 10 dns_ready
}
dns_ready() { in_ns dns "$SOCKCTL" resolve v4only.test >/dev/null; }

@test "resolve tutorialspoint.com www: the A and AAAA records from dnsmasq, port 80" {
	start_dns
	run -0 --separate-stderr in_ns dns "$SOCKCTL" resolve tutorialspoint.com www
	[ "${lines[0]}" = "FAMILY  TYPE    PROTOCOL  ADDRESS       PORT" ]
	[[ $output == *"inet    stream  tcp       198.18.0.80   80"* ]]
	[[ $output == *"inet6   stream  tcp       2001:db8::80  80"* ]]
	[ "${#lines[@]}" -eq 3 ] # www is a TCP service only: no dgram or raw rows
	[ -z "$stderr" ]
}

@test "resolve --canonname shows the CNAME target" {
	start_dns
	run -0 in_ns dns "$SOCKCTL" resolve --canonname -4 tutorialspoint.com www
	[[ ${lines[0]} == *CANONNAME ]]
	[[ ${lines[1]} == *"198.18.0.80"*"edge.tutorialspoint.test" ]]
	run -0 in_ns dns "$SOCKCTL" resolve --canonname --json -6 tutorialspoint.com www
	[ "$(jq -r 'select(.canonname) | .canonname' <<<"$output")" = edge.tutorialspoint.test ]
	[ "$(jq -s 'map(.address) | unique | .[]' -r <<<"$output")" = 2001:db8::80 ]
}

@test "resolve agrees with Python's socket.getaddrinfo on every combination" {
	start_dns
	run -0 in_ns dns python3 "$BATS_TEST_DIRNAME/resolve_oracle.py" "$SOCKCTL"
	[[ ${lines[-1]} =~ ^compared\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -gt 5000 ]
}

@test "a name that does not exist: status 1, EAI_NONAME with its text, nothing on stdout" {
	start_dns
	run -1 --separate-stderr in_ns dns "$SOCKCTL" resolve nosuch.test www
	[ -z "$output" ]
	[ "$stderr" = "sockctl resolve: nosuch.test port www: EAI_NONAME: name or service not known" ]
}

@test "an unknown service: status 1 with EAI_SERVICE" {
	run -1 --separate-stderr "$SOCKCTL" resolve 127.0.0.1 nosuchservice
	[ -z "$output" ]
	[[ $stderr == *"EAI_SERVICE"* ]]
}

@test "--json: one object per result with the documented keys and types" {
	run -0 "$SOCKCTL" resolve --json 127.0.0.1 https
	[ "${#lines[@]}" -eq 2 ] # https is tcp and udp in /etc/services
	jq -s -e 'any(.[]; .family == "inet" and .type == "stream" and .protocol == "tcp"
		and .address == "127.0.0.1" and .port == 443 and (has("canonname") | not))' \
		<<<"$output"
	jq -s -e 'all(.[]; keys == (["address", "event", "family", "port", "protocol", "type"])
		and .event == "address")' <<<"$output"
	[ "$(jq -r .protocol <<<"$output" | tr '\n' ' ')" = "tcp udp " ]
	run -0 "$SOCKCTL" resolve --json 127.0.0.1
	[ "$(jq -r .protocol <<<"$output" | tr '\n' ' ')" = "tcp udp ip " ]
}

@test "--protocol and --type filter as getaddrinfo does" {
	run -0 "$SOCKCTL" resolve --json --protocol udp ::1 53
	[ "$(jq -r '"\(.family) \(.type) \(.protocol) \(.address) \(.port)"' <<<"$output")" = "inet6 dgram udp ::1 53" ]
	run -0 "$SOCKCTL" resolve --json --protocol 17 ::1 53
	[ "$(jq -r .protocol <<<"$output")" = udp ]
}

@test "--passive with no host: the wildcard addresses" {
	run -0 "$SOCKCTL" resolve --passive --type stream '' 8080
	[[ $output == *"0.0.0.0"*"8080"* ]]
}

@test "-v: the hints and the lookup time on stderr; stdout unchanged" {
	plain=$("$SOCKCTL" resolve --numeric-host 127.0.0.1 80)
	run -0 --separate-stderr "$SOCKCTL" resolve -v --numeric-host 127.0.0.1 80
	[ "$output" = "$plain" ]
	[[ $stderr == *'getaddrinfo("127.0.0.1", "80", {family=unspec, socktype=0, protocol=0, flags=AI_NUMERICHOST})'* ]]
	[[ $stderr =~ getaddrinfo\ returned\ 3\ results\ in\ [0-9.]+(us|ms|s) ]]
}

@test "--reverse: getnameinfo with its flags" {
	run -0 "$SOCKCTL" resolve --reverse 127.0.0.1 22
	[ "${lines[1]}" = "localhost  ssh" ]
	run -0 "$SOCKCTL" resolve -r -n 127.0.0.1 22
	[ "${lines[1]}" = "127.0.0.1  22" ]
	run -0 "$SOCKCTL" resolve -r --dgram 127.0.0.1 53
	[ "${lines[1]}" = "localhost  domain" ]
	run -0 "$SOCKCTL" resolve -r --json ::1 443 --numeric-host
	[ "$output" = '{"event":"name","address":"::1","port":443,"host":"::1","service":"https"}' ]
}

@test "--reverse answers from DNS, and --namereq fails without a name" {
	start_dns
	run -0 in_ns dns "$SOCKCTL" resolve -r 198.18.0.99
	[ "${lines[1]}" = "named99.test  0" ]
	run -0 in_ns dns "$SOCKCTL" resolve -r 198.18.0.98
	[ "${lines[1]}" = "198.18.0.98  0" ]
	run -1 --separate-stderr in_ns dns "$SOCKCTL" resolve -r --namereq 198.18.0.98
	[ -z "$output" ]
	[[ $stderr == "sockctl resolve: 198.18.0.98: EAI_NONAME: "* ]]
}

@test "bad input: status 2, one line naming the problem, nothing on stdout" {
	assert_usage_error "need a HOST or a SERVICE" "$SOCKCTL" resolve
	assert_usage_error "unexpected argument 'c'" "$SOCKCTL" resolve a b c
	assert_usage_error "socket type 'bogus'" "$SOCKCTL" resolve --type bogus localhost
	assert_usage_error "protocol" "$SOCKCTL" resolve --protocol 300 localhost
	assert_usage_error "protocol 'nope'" "$SOCKCTL" resolve --protocol nope localhost
	assert_usage_error "--canonname cannot be used with --reverse" "$SOCKCTL" resolve -r --canonname 127.0.0.1
	assert_usage_error "--namereq needs --reverse" "$SOCKCTL" resolve --namereq localhost
	assert_usage_error "bad address 'localhost'" "$SOCKCTL" resolve -r localhost
	assert_usage_error "port" "$SOCKCTL" resolve -r 127.0.0.1 70000
	assert_usage_error "conflicts" "$SOCKCTL" resolve -4 -6 localhost
	assert_usage_error "--type" "$SOCKCTL" resolve localhost --type
	assert_usage_error "-4/-6 cannot be used with --reverse" "$SOCKCTL" resolve -4 -r 127.0.0.1
}

@test "impossible hints are bad usage (status 2): EAI_BADFLAGS" {
	# AI_CANONNAME without a host name is rejected by getaddrinfo itself
	run -2 --separate-stderr "$SOCKCTL" resolve --canonname '' 80
	[ -z "$output" ]
	[[ $stderr == *"EAI_BADFLAGS: bad value for ai_flags"* ]]
}
