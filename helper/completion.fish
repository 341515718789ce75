# fish completion for carto-auth
#
# Installed as <prefix>/share/fish/vendor_completions.d/carto-auth.fish
# (and git-credential-carto.fish, a link to it), where fish loads it on
# demand. Elsewhere: copy it to ~/.config/fish/completions/carto-auth.fish.
#
# Completes the commands, each command's options (before or after the
# command), the values of --format, and file names after --m2m. It follows
# `carto-auth --help`; tests/integration/test_completion.sh keeps them equal.

# The command on the line: the first word that is not an option or an
# option's value.
function __carto_auth_command
    set -l words (commandline -opc)
    set -e words[1]
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --m2m --org --api-base-url --timeout --min-ttl --format
                set skip 1
            case '-*'
            case '*'
                echo $w
                return 0
        end
    end
    return 1
end

# Whether the option (long name) belongs to the command on the line; before
# a command, every option does.
function __carto_auth_takes -a option
    set -l command (__carto_auth_command)
    or return 0
    switch $command
        case get store erase
            contains -- $option m2m org api-base-url no-browser timeout min-ttl debug help
        case login
            contains -- $option m2m org api-base-url no-browser device timeout debug help
        case token
            contains -- $option m2m org api-base-url format min-ttl no-browser timeout debug help
        case dw
            contains -- $option m2m org api-base-url format no-browser timeout debug help
        case logout
            contains -- $option m2m org all debug help
        case status
            contains -- $option debug help
        case '*'
            return 1
    end
end

function __carto_auth_formats
    if test "$(__carto_auth_command)" = dw
        printf '%s\n' plain json env
    else
        printf '%s\n' plain json env header
    end
end

for cmd in carto-auth git-credential-carto
    complete -c $cmd -f

    # The commands, until one is given.
    set -l no_command "not __carto_auth_command >/dev/null"
    complete -c $cmd -n $no_command -a get -d 'credential helper: answer a request read from stdin'
    complete -c $cmd -n $no_command -a store -d 'credential helper: save the credential read from stdin'
    complete -c $cmd -n $no_command -a erase -d 'credential helper: forget the credential read from stdin'
    complete -c $cmd -n $no_command -a login -d 'log in now (browser, device code, or M2M credentials)'
    complete -c $cmd -n $no_command -a token -d 'print a valid token, renewed when needed'
    complete -c $cmd -n $no_command -a status -d 'list stored CARTO tokens (never a secret)'
    complete -c $cmd -n $no_command -a logout -d 'revoke the refresh token and remove stored tokens'
    complete -c $cmd -n $no_command -a dw -d 'print CARTO Data Warehouse project and token'

    complete -c $cmd -n '__carto_auth_takes m2m' -l m2m -r -F -d 'M2M credentials file'
    complete -c $cmd -n '__carto_auth_takes org' -l org -x -d 'SSO organization for the OAuth login'
    complete -c $cmd -n '__carto_auth_takes api-base-url' -l api-base-url -x -d 'the account API base URL'
    complete -c $cmd -n '__carto_auth_takes no-browser' -l no-browser -d 'print the login URL, read the code'
    complete -c $cmd -n '__carto_auth_takes device' -l device -d 'log in on another device with a code'
    complete -c $cmd -n '__carto_auth_takes timeout' -l timeout -x -d 'give up a login after S seconds'
    complete -c $cmd -n '__carto_auth_takes min-ttl' -l min-ttl -x -d 'renew tokens with less than S seconds left'
    complete -c $cmd -n '__carto_auth_takes format' -l format -x -a '(__carto_auth_formats)' -d 'output format'
    complete -c $cmd -n '__carto_auth_takes all' -l all -d 'logout: every stored CARTO token, each revoked'
    complete -c $cmd -n '__carto_auth_takes debug' -l debug -d 'trace to stderr (secrets redacted)'
    complete -c $cmd -n '__carto_auth_takes help' -s h -l help -d 'the help, or a command\'s'
    complete -c $cmd -n 'not __carto_auth_command >/dev/null' -s V -l version -d 'the version'
end
