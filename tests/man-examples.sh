#!/bin/sh
# tests/man-examples.sh PAGE...: the example command lines of the EXAMPLES
# sections, one per line as "PAGE<TAB>COMMAND", groff escapes undone
# (\- \(aq \(dq \e), a leading "$ " prompt dropped.
for p in "$@"; do
	name=$(basename "$p" .1)
	awk -v page="$name" '
		/^\.SH / { inex = ($0 ~ /^\.SH EXAMPLES/); next }
		!inex { next }
		/^\.(EX|nf)/ { code = 1; next }
		/^\.(EE|fi)/ { code = 0; next }
		!code || /^\./ || /^[[:space:]]*$/ { next }
		{
			gsub(/\\-/, "-"); gsub(/\\\(aq/, "\047"); gsub(/\\\(dq/, "\""); gsub(/\\e/, "\\")
			sub(/^\$ /, "")
			print page "\t" $0
		}' "$p"
done
