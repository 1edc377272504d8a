# zsh -f tests/complete.zsh FPATHDIR LINE: the words zsh's completion offers for
# LINE (a real interactive zsh in a pseudo-terminal, its compadd wrapped to
# record each match), one per line; descriptions as "D:TEXT" lines.
if [[ $1 == --inner ]]; then
	compadd() {
		if (( ${@[(I)-[OAD]]} )); then
			builtin compadd "$@"
			return
		fi
		local -a __m
		builtin compadd -O __m "$@"
		print -rl -- $__m >>$__zc_out
		local __i=${@[(i)-d]}
		if (( __i < $# )); then
			local __d=${@[__i + 1]}
			[[ $__d == [A-Za-z_]* ]] && print -rl -- "D:"${(P)^__d} >>$__zc_out
		fi
		builtin compadd "$@"
	}
	# complete, then say so: typing on while zsh completes would cut it short
	__zc_complete() {
		zle complete-word
		zle -M "ZC""DONE"
	}
	zle -N __zc_complete
	bindkey '^X^T' __zc_complete
	return
fi
zmodload zsh/zpty || exit 2
local self=${0:A} dir=${1:A} line=$2 out=$(mktemp) l
zpty z env TERM=xterm zsh -f -i
zpty -w z "__zc_out=${(q)out}; source ${(q)self} --inner; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D; zstyle ':completion:*' list-prompt ''"
zpty -n -w z "$line"$'\C-x\C-t'
zpty -r z l '*ZCDONE*'
zpty -d z
cat $out
rm -f $out
