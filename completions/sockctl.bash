# bash completion for sockctl.  Commands and options come from the binary
# itself ("sockctl --list-commands", "sockctl CMD --list-options"), so this
# file never lists an option by hand.
_sockctl() {
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local bin=${words[0]} cmd="" i
	for ((i = 1; i < cword; i++)); do
		if [[ ${words[i]} != -* ]]; then
			cmd=${words[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$("$bin" --list-commands 2>/dev/null) help" -- "$cur")
		fi
		return
	fi
	if [[ $cmd == help ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$bin" --list-commands 2>/dev/null)" -- "$cur")
		return
	fi
	local list long short arg values opts=""
	list=$("$bin" "$cmd" --list-options 2>/dev/null) || return
	# the value of the option before the cursor
	while IFS=$'\t' read -r long short arg values; do
		if [[ $arg != - && ( $prev == "$long" || $prev == "$short" ) ]]; then
			case $arg in
			PATH | FILE) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
			IFACE) mapfile -t COMPREPLY < <(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ;;
			*) [[ $values != - ]] &&
				mapfile -t COMPREPLY < <(compgen -W "${values//,/ }" -- "$cur") ;;
			esac
			return
		fi
		[[ $long == --list-options ]] || opts+="$long "
	done <<<"$list"
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
	elif [[ $cmd == resolve || $cmd == connect || $cmd == udp-send || $cmd == raw-icmp ]]; then
		mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur")
	fi
}
complete -F _sockctl sockctl
