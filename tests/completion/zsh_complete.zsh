# zsh -f zsh_complete.zsh FPATH_DIR OUT_FILE LINE...
#
# What zsh's completion system offers for each LINE (the word being completed
# is the end of LINE), as the user would get it with TAB: an interactive zsh
# in a pseudo-terminal (zsh/zpty) runs compinit with FPATH_DIR first in
# $fpath; compadd is wrapped to record its matches. OUT_FILE gets, for each
# LINE, "== LINE", then the matches one per line.
zmodload zsh/zpty || exit 2
fpath_dir=$1 out=$2
shift 2
: >$out
zpty cap zsh -f -i || exit 2
zpty -w cap "PROMPT='' RPROMPT=''; fpath=(${(q)fpath_dir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w cap "CAP_OUT=${(q)out}"
zpty -w cap 'zstyle ":completion:*" insert-tab false; zstyle ":completion:*" list-grouped false'
zpty -w cap 'compadd() { local -a m; builtin compadd -A m "$@"; local r=$?; (( $#m )) && print -rl -- $m >>$CAP_OUT; builtin compadd "$@"; return r }'
zpty -w cap '_cap_complete() { _main_complete; print -r -- "==END" >>$CAP_OUT }; zle -C cap-complete complete-word _cap_complete'
zpty -w cap 'bindkey "^I" cap-complete; bindkey "^U" kill-whole-line'
integer n=0 tries done
for line in "$@"; do
  print -r -- "== $line" >>$out
  zpty -n -w cap $'\C-u'"$line"$'\t'
  (( n++ ))
  # Wait (5 s at most) for the completion to finish.
  for (( tries = 0; tries < 100; tries++ )); do
    done=${#${(M)${(f)"$(<$out)"}:#==END}}
    (( done >= n )) && break
    zpty -r -t cap >/dev/null 2>&1
    sleep 0.05
  done
done
zpty -d cap
# Drop the markers.
print -rl -- ${${(f)"$(<$out)"}:#==END} >$out.tmp && mv $out.tmp $out
