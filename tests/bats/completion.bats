#!/usr/bin/env bats
# Completion for bash, zsh and fish, generated from the option tables by
# `sockctl completion SHELL`, checked through the real shells.
load helper

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	# fish offers only the hosts of /etc/hosts that are not 127.* and those
	# ssh knows: give it one, in a home of its own (zsh's _hosts reads it too)
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME/.ssh" "$BATS_TEST_TMPDIR/files/sub"
	echo 'testhost.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA' >"$HOME/.ssh/known_hosts"
	: >"$BATS_TEST_TMPDIR/files/sock"
	export XDG_CONFIG_HOME=$HOME/.config XDG_DATA_HOME=$HOME/.local/share
}

teardown() { common_teardown; }

bash_complete() { # bash_complete WORD...: COMPREPLY for the last word
	bash -c 'source completions/sockctl.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sockctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$@" | sed '/^$/d'
}

zsh_complete() { # zsh_complete LINE: the matches (and D:descriptions) zsh offers
	timeout 30 zsh -f tests/complete.zsh completions "$1" | sed "/^$/d" | sort -u
}

fish_complete() { # fish_complete LINE: fish's complete -C, WORD<TAB>DESCRIPTION
	timeout 30 fish --no-config -c 'source completions/sockctl.fish; complete -C $argv[1]' "$1"
}

@test "completions/ is what sockctl completion prints (run make completions after an option change)" {
	for s in bash zsh fish; do
		case $s in bash) f=completions/sockctl.bash ;; zsh) f=completions/_sockctl ;;
		fish) f=completions/sockctl.fish ;; esac
		run -0 --separate-stderr "$SOCKCTL" completion "$s"
		[ -z "$stderr" ]
		[ "$output" = "$(cat "$f")" ] || { echo "$f differs: make completions"; return 1; }
	done
	run -0 bash -n completions/sockctl.bash
	run -0 zsh -n completions/_sockctl
	run -0 fish -n completions/sockctl.fish
}

@test "sockctl completion refuses a shell it does not know, with one line and status 2" {
	run -2 --separate-stderr "$SOCKCTL" completion tcsh
	[ -z "$output" ]
	[ "$stderr" = "sockctl completion: expected one SHELL: bash, zsh or fish" ]
	run -2 --separate-stderr "$SOCKCTL" completion
	[ -z "$output" ]
}

@test "every long option of every command completes in bash, zsh and fish" {
	local c z f
	for c in $("$SOCKCTL" --list-commands); do
		b=$(bash_complete sockctl "$c" --)
		z=$(zsh_complete "sockctl $c --")
		f=$(fish_complete "sockctl $c --" | cut -f1)
		while IFS=$'\t' read -r long _; do
			[ "$long" = --list-options ] && continue
			grep -qx -- "$long" <<<"$b" || { echo "bash: $c $long"; return 1; }
			grep -qx -- "$long=\?" <<<"$z" || { echo "zsh: $c $long"; return 1; }
			grep -qx -- "$long" <<<"$f" || { echo "fish: $c $long"; return 1; }
		done < <("$SOCKCTL" "$c" --list-options)
	done
}

@test "bash: commands, enum values, paths, interfaces, hosts, services, nothing after --" {
	run -0 bash_complete sockctl con
	[ "$output" = connect ]
	run -0 bash_complete sockctl connect --type s
	[ "$output" = $'stream\nseqpacket' ]
	run -0 bash_complete sockctl raw-icmp --mode ''
	[ "$output" = $'auto\ndgram\nraw' ]
	run -0 bash_complete sockctl udp-send --pmtu d
	[ "$output" = $'dont\ndo' ]
	run -0 bash_complete sockctl connect --type=s
	[ "$output" = $'stream\nseqpacket' ]
	# paths: after -U (the positional is then a PATH) and after unix:
	run -0 bash_complete sockctl connect -U "$BATS_TEST_TMPDIR/files/so"
	[ "$output" = "$BATS_TEST_TMPDIR/files/sock" ]
	run -0 bash_complete sockctl listen -U "$BATS_TEST_TMPDIR/files/su"
	[ "$output" = "$BATS_TEST_TMPDIR/files/sub" ]
	run -0 bash_complete sockctl connect "unix:$BATS_TEST_TMPDIR/files/so"
	[ "$output" = "unix:$BATS_TEST_TMPDIR/files/sock" ]
	# interfaces
	run -0 bash_complete sockctl connect -I l
	grep -qx lo <<<"$output"
	run -0 bash_complete sockctl udp-send --mcast-if l
	grep -qx lo <<<"$output"
	# hosts in the HOST slot, services (with aliases) in the PORT slot only
	run -0 bash_complete sockctl connect localh
	[ "$output" = localhost ]
	run -0 bash_complete sockctl connect -w 5 localhost ww
	[ "$output" = www ]
	run -0 bash_complete sockctl connect localhost localh
	[ -z "$output" ]
	run -0 bash_complete sockctl resolve localhost http
	grep -qx http <<<"$output"
	grep -qx https <<<"$output"
	run -0 bash_complete sockctl raw-icmp -c 3 localh
	[ "$output" = localhost ]
	# the argument of an option is not a positional word
	run -0 bash_complete sockctl connect -s localh
	[ "$output" = localhost ]
	run -0 bash_complete sockctl connect -w ''
	[ -z "$output" ]
	# nothing after --
	run -0 bash_complete sockctl connect -- ''
	[ -z "$output" ]
	run -0 bash_complete sockctl connect -- --
	[ -z "$output" ]
	run -0 bash_complete sockctl completion ''
	[ "$output" = $'bash\nzsh\nfish' ]
}

@test "zsh: commands and options with descriptions, values, paths, hosts, services, nothing after --" {
	run -0 zsh_complete "sockctl con"
	grep -qx connect <<<"$output"
	grep -q '^D:connect *-- TCP/UDP/Unix client' <<<"$output"
	run -0 zsh_complete "sockctl connect --ti"
	grep -qx -- --timeout <<<"$output"
	grep -q -- '^D:--timeout.*-- connect and idle timeout' <<<"$output"
	run -0 zsh_complete "sockctl connect --type s"
	[ "$output" = $'seqpacket\nstream' ]
	run -0 zsh_complete "sockctl raw-icmp --mode "
	[ "$output" = $'auto\ndgram\nraw' ]
	run -0 zsh_complete "sockctl connect -U $BATS_TEST_TMPDIR/files/so"
	[ "$output" = sock ]
	run -0 zsh_complete "sockctl connect unix:$BATS_TEST_TMPDIR/files/so"
	[ "$output" = sock ]
	run -0 zsh_complete "sockctl connect -I l"
	grep -qx lo <<<"$output"
	run -0 zsh_complete "sockctl connect testh"
	[ "$output" = testhost.example ]
	run -0 zsh_complete "sockctl connect -w 5 testhost.example ww"
	[ "$output" = www ]
	run -0 zsh_complete "sockctl connect testhost.example testh"
	[ -z "$output" ]
	run -0 zsh_complete "sockctl connect -- "
	[ -z "$output" ]
	run -0 zsh_complete "sockctl connect -- --"
	[ -z "$output" ]
}

@test "fish: commands and options with descriptions, values, paths, hosts, services, nothing after --" {
	run -0 fish_complete "sockctl con"
	[[ $output == connect$'\t'"TCP/UDP/Unix client"* ]]
	run -0 fish_complete "sockctl connect --ti"
	[ "$output" = $'--timeout\tconnect and idle timeout (-z: per port, default 1s)' ]
	run -0 fish_complete "sockctl connect --type s"
	[ "$(cut -f1 <<<"$output")" = $'seqpacket\nstream' ]
	run -0 fish_complete "sockctl raw-icmp --mode "
	[ "$(cut -f1 <<<"$output")" = $'auto\ndgram\nraw' ]
	run -0 fish_complete "sockctl connect -U $BATS_TEST_TMPDIR/files/so"
	[ "$output" = "$BATS_TEST_TMPDIR/files/sock" ]
	run -0 fish_complete "sockctl connect unix:$BATS_TEST_TMPDIR/files/so"
	[ "$output" = "unix:$BATS_TEST_TMPDIR/files/sock" ]
	run -0 fish_complete "sockctl connect -I l"
	grep -q "^lo" <<<"$output"
	run -0 fish_complete "sockctl connect testh"
	[ "$output" = testhost.example ]
	run -0 fish_complete "sockctl connect -w 5 testhost.example ww"
	[ "$output" = www ]
	run -0 fish_complete "sockctl connect testhost.example testh"
	[ -z "$output" ]
	run -0 fish_complete "sockctl connect -- "
	[ -z "$output" ]
	run -0 fish_complete "sockctl connect -- --"
	[ -z "$output" ]
}
