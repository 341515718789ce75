# bash completion for carto-auth                              -*- shell-script -*-
#
# Installed as <prefix>/share/bash-completion/completions/carto-auth (and
# git-credential-carto, a link to it), where bash-completion loads it on
# demand. Without bash-completion, source it
# from ~/.bashrc:  . /usr/local/share/bash-completion/completions/carto-auth
#
# Completes the commands, each command's options, the values of --format,
# and file names after --m2m. Works with plain bash (no helper functions of
# the bash-completion package are needed).

# Sets COMPREPLY to compgen's lines (file names may hold spaces).
_carto_auth_reply()
{
    mapfile -t COMPREPLY < <(compgen "$@")
}

_carto_auth()
{
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD

    # With '=' in COMP_WORDBREAKS (the default), "--format=js" arrives as
    # the words "--format", "=", "js".
    if [ "$cur" = "=" ]; then
        cur=
    elif [ "$prev" = "=" ] && [ "$cword" -ge 2 ]; then
        prev=${words[cword-2]}
    fi

    local commands="get store erase login token status logout dw"
    local global_opts="--m2m --org --api-base-url --no-browser --device --timeout --min-ttl --format --all --debug --help --version"

    # The command: the first word that is not an option or an option's value.
    local i command=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --m2m|--org|--api-base-url|--timeout|--min-ttl|--format)
                ((i++)) ;;
            -*) ;;
            *) command=${words[i]}; break ;;
        esac
    done

    # Values of options.
    case $prev in
        --m2m)
            compopt -o filenames 2>/dev/null
            _carto_auth_reply -f -- "$cur"
            return 0 ;;
        --format)
            if [ "$command" = dw ]; then
                _carto_auth_reply -W "plain json env" -- "$cur"
            else
                _carto_auth_reply -W "plain json env header" -- "$cur"
            fi
            return 0 ;;
        --org|--api-base-url|--timeout|--min-ttl)
            # Free text: nothing to offer.
            COMPREPLY=()
            return 0 ;;
    esac

    # --opt=value forms.
    case $cur in
        --m2m=*)
            compopt -o filenames 2>/dev/null
            _carto_auth_reply -f -- "${cur#--m2m=}"
            return 0 ;;
        --format=*)
            _carto_auth_reply -W "plain json env header" -- "${cur#--format=}"
            return 0 ;;
    esac

    local opts
    case $command in
        "") opts=$global_opts ;;
        login) opts="--m2m --org --api-base-url --no-browser --device --timeout --debug --help" ;;
        token) opts="--m2m --org --api-base-url --format --min-ttl --no-browser --timeout --debug --help" ;;
        dw) opts="--m2m --org --api-base-url --format --no-browser --timeout --debug --help" ;;
        logout) opts="--m2m --org --all --debug --help" ;;
        status) opts="--debug --help" ;;
        get|store|erase) opts="--m2m --org --api-base-url --no-browser --timeout --min-ttl --debug --help" ;;
        *) opts= ;;
    esac

    if [ -z "$command" ] && [[ $cur != -* ]]; then
        _carto_auth_reply -W "$commands" -- "$cur"
    else
        _carto_auth_reply -W "$opts" -- "$cur"
    fi
    return 0
} &&
complete -F _carto_auth carto-auth git-credential-carto

# ex: filetype=sh
