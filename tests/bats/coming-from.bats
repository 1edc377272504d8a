#!/usr/bin/env bats
# sockctl(1)'s "COMING FROM nc / ncat / socat / ping / getent": both commands
# of every pair run on loopback (tests/man-example-run.sh report: namespaces
# of their own, the same peers, "hello" on stdin) and must end the same way
# (success, failure, or still running after 3 s); for the relays (nc, ncat,
# socat) what the old tool writes on stdout, sockctl writes too.
load helper

setup() { cd "$BATS_TEST_DIRNAME/../.."; }
teardown() { common_teardown; }

pairs() { # TOOL<TAB>OLD<TAB>NEW, from the man page
	awk '
		/^\.SH / { on = ($0 ~ /^\.SH COMING FROM/); next }
		!on { next }
		/^\.SS / { tool = $2; next }
		/^\.EX/ { code = 1; next }
		/^\.EE/ { code = 0; next }
		!code { next }
		{
			gsub(/\\-/, "-"); gsub(/\\\(aq/, "\047"); gsub(/\\e/, "\\")
			if ($0 ~ /^    /) { sub(/^    /, ""); print tool "\t" old "\t" $0 } else old = $0
		}' docs/sockctl.1
}

class() { # 0, fail or running, from "status=N ..."
	local st=${1#status=}
	st=${st%% *}
	case $st in 0) echo 0 ;; 124) echo running ;; *) echo fail ;; esac
}

@test "the COMING FROM section has pairs for each tool" {
	for t in nc ncat socat ping getent; do
		n=$(pairs | awk -F'\t' -v t="$t" '$1 == t' | wc -l)
		echo "$t: $n pairs"
		[ "$n" -ge 8 ]
	done
	# every new line is a sockctl command
	[ -z "$(pairs | cut -f3 | grep -v '^sockctl ')" ]
}

@test "both commands of every COMING FROM pair end the same way on loopback" {
	local bad=0 n=0 tool old new ra rb
	while IFS=$'\t' read -r tool old new; do
		n=$((n + 1))
		tests/man-example-run.sh report peers "$old" >"$BATS_TEST_TMPDIR/a" 2>&1 &
		tests/man-example-run.sh report peers "$new" >"$BATS_TEST_TMPDIR/b" 2>&1
		wait $!
		ra=$(tail -1 "$BATS_TEST_TMPDIR/a")
		rb=$(tail -1 "$BATS_TEST_TMPDIR/b")
		if [ "$(class "$ra")" != "$(class "$rb")" ]; then
			echo "$tool: '$old' ($ra) and '$new' ($rb) end differently"
			bad=$((bad + 1))
		elif [[ $tool == nc || $tool == ncat || $tool == socat ]] &&
			[[ $ra != *" bytes=0" ]] && [ "${ra#* }" != "${rb#* }" ]; then
			echo "$tool: '$old' ($ra) and '$new' ($rb) write different bytes"
			bad=$((bad + 1))
		fi
	done < <(pairs)
	echo "$n pairs, $bad differ"
	[ "$bad" = 0 ] && [ "$n" -ge 100 ]
}
