#!/usr/bin/env bats
# The option tables are the single source of truth: every long option a
# command has must be in its --help, its man page and what completion offers.
load helper

teardown() { common_teardown; }

complete_words() { # complete_words WORD...: what bash completion offers
	# the completion runs the binary by the name typed: find ours first
	PATH="$(dirname "$SOCKCTL"):$PATH" bash -c '
		source completions/sockctl.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sockctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

@test "every command has a man page that groff accepts silently, with EXIT STATUS and EXAMPLES" {
	cd "$BATS_TEST_DIRNAME/../.."
	for c in $("$SOCKCTL" --list-commands); do
		page=docs/sockctl-$c.1
		[ -f "$page" ] || { echo "missing $page"; return 1; }
		run -0 --separate-stderr groff -man -ww -z "$page"
		[ -z "$stderr" ] || { echo "$page: $stderr"; return 1; }
		grep -q '^\.SH EXIT STATUS' "$page"
		grep -q '^\.SH EXAMPLES' "$page"
	done
	run -0 --separate-stderr groff -man -ww -z docs/sockctl.1
	[ -z "$stderr" ]
}

@test "every long option is in --help, in the man page and in the completion" {
	cd "$BATS_TEST_DIRNAME/../.."
	for c in $("$SOCKCTL" --list-commands); do
		help=$("$SOCKCTL" "$c" --help)
		offered=$(complete_words "$SOCKCTL" "$c" --)
		# man pages escape '-' as '\-'; the shared SOCKET OPTIONS text is .so-included
		man=$(soelim "docs/sockctl-$c.1" | sed 's/\\-/-/g')
		while IFS=$'\t' read -r long short arg values; do
			[ "$long" = --list-options ] && continue
			[[ $help == *"$long"* ]] || { echo "$c: $long not in --help"; return 1; }
			[[ $man == *"$long"* ]] || { echo "$c: $long not in man page"; return 1; }
			grep -qx -- "$long" <<<"$offered" || { echo "$c: $long not completed"; return 1; }
		done < <("$SOCKCTL" "$c" --list-options)
	done
}

@test "the main man page lists every command" {
	cd "$BATS_TEST_DIRNAME/../.."
	for c in $("$SOCKCTL" --list-commands); do
		sed 's/\\-/-/g' docs/sockctl.1 | grep -q "sockctl-$c(1)\|sockctl-$c " || { echo "$c missing from sockctl.1"; return 1; }
	done
}

@test "completion offers commands and option values" {
	cd "$BATS_TEST_DIRNAME/../.."
	run -0 complete_words "$SOCKCTL" res
	[ "$output" = resolve ]
	run -0 complete_words "$SOCKCTL" resolve --type s
	[[ $output == *stream* && $output == *seqpacket* ]]
	run -0 complete_words "$SOCKCTL" resolve --protocol ud
	[[ $output == *udp* && $output == *udplite* ]]
	run -0 complete_words "$SOCKCTL" help re
	[ "$output" = resolve ]
}

@test "every man page documents the JSON key event, not type, as what names an object" {
	cd "$BATS_TEST_DIRNAME/../.."
	local c bad=0
	for c in $("$SOCKCTL" --list-commands); do
		page=docs/sockctl-$c.1
		grep -Eq '^\.BR? event( |$)|^\.BR "?event' "$page" ||
			{ echo "$page: the key event is not documented"; bad=1; }
		# "type" naming the kind of object: .BR type " (\(dqreply\(dq), ...
		if grep -n '^\.BR type " (\\(dq' "$page"; then
			echo "$page: documents type as the discriminator"
			bad=1
		fi
		grep -q '"event":"error","command":"'"$c"'"' "$page" ||
			{ echo "$page: no JSON error object"; bad=1; }
	done
	[ "$bad" = 0 ]
}
