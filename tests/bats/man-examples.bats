#!/usr/bin/env bats
# Every man page's EXAMPLES are listed in tests/man-examples.txt, and each
# listed one runs on loopback (in namespaces of its own) as the page shows it.
load helper

setup() { cd "$BATS_TEST_DIRNAME/../.."; }
teardown() { common_teardown; }

listed() { grep -v '^#' tests/man-examples.txt | cut -f1,2; }

@test "the list of man-page examples and the pages' EXAMPLES agree" {
	run -0 diff <(tests/man-examples.sh docs/*.1) <(listed)
	# a skip says why; every other line says what to expect
	while IFS=$'\t' read -r page cmd action extra; do
		case $action in
		"exit "[0-9] | serve) ;;
		skip) [ -n "$extra" ] || { echo "$page: '$cmd': a skip without a reason"; return 1; } ;;
		*) echo "$page: '$cmd': unknown action '$action'"; return 1 ;;
		esac
	done < <(grep -v '^#' tests/man-examples.txt)
}

@test "every man-page example runs on loopback as shown" {
	local bad=0 n=0
	while IFS=$'\t' read -r page cmd action fixture; do
		[ "$action" = skip ] && continue
		n=$((n + 1))
		res=$(tests/man-example-run.sh "$action" "${fixture:-peers}" "$cmd" 2>&1 | tail -1)
		if [ "$res" != ok ]; then
			echo "$page: $cmd: $res"
			bad=$((bad + 1))
		fi
	done < <(grep -v '^#' tests/man-examples.txt)
	echo "$n examples run, $bad failed"
	[ "$bad" = 0 ] && [ "$n" -ge 40 ]
}
