#compdef carto-auth git-credential-carto
# zsh completion for carto-auth                               -*- shell-script -*-
#
# Installed as <prefix>/share/zsh/site-functions/_carto-auth (in the Debian
# package: /usr/share/zsh/vendor-completions/_carto-auth), a directory of
# zsh's $fpath; compinit picks it up. Elsewhere: copy it as _carto-auth into
# a directory of $fpath before compinit runs.
#
# Completes the commands, each command's options (before or after the
# command), the values of --format, and file names after --m2m. It follows
# `carto-auth --help`; tests/integration/test_completion.sh keeps them equal.

# The values of --format: dw prints no header.
(( $+functions[_carto-auth_formats] )) ||
_carto-auth_formats() {
  local -a formats=(plain json env header)
  local i
  # The command: the first word that is not an option or an option's value.
  for (( i = 2; i < CURRENT; i++ )); do
    case $words[i] in
      --m2m|--org|--api-base-url|--timeout|--min-ttl|--format) (( i++ )) ;;
      -*) ;;
      *) [[ $words[i] == dw ]] && formats=(plain json env); break ;;
    esac
  done
  _describe -t formats 'output format' formats
}

_carto-auth() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args

  local -a commands
  commands=(
    'get:credential helper - answer a request read from stdin'
    'store:credential helper - save the credential read from stdin'
    'erase:credential helper - forget the credential read from stdin'
    'login:log in now (browser, device code, or M2M credentials) and store the token'
    'token:print a valid token, renewed when needed'
    'status:list stored CARTO tokens (never a secret)'
    'logout:revoke the refresh token at the server and remove stored tokens'
    'dw:print CARTO Data Warehouse project and token'
  )

  # Each option once, by name; the commands pick theirs below.
  local -A spec
  spec=(
    m2m '--m2m=[M2M credentials file (api_base_url, client_id, client_secret)]:credentials file:_files'
    org '--org=[SSO organization for the OAuth login]:organization: '
    api-base-url '--api-base-url=[the account API base URL (skips discovery)]:URL:_urls'
    no-browser '--no-browser[print the login URL and read the code from the terminal]'
    device '--device[log in on another device: show a URL and a code to confirm there]'
    timeout '--timeout=[give up a login after S seconds (default 300)]:seconds: '
    min-ttl '--min-ttl=[renew tokens with less than S seconds left (default 300)]:seconds: '
    format '--format=[output format of token and dw]:format:_carto-auth_formats'
    all '--all[logout: every stored CARTO token (each refresh token revoked)]'
    debug '--debug[trace requests and decisions to stderr (secrets redacted)]'
    help '(-)--help[show the help, or a command'"'"'s]'
    h '(-)-h[show the help, or a command'"'"'s]'
    version '(-)--version[show the version]'
    V '(-)-V[show the version]'
  )

  _arguments -C -S : ${(v)spec} \
    '1:command:->command' \
    '*::argument:->argument' && ret=0

  case $state in
    command)
      _describe -t commands 'carto-auth command' commands && ret=0
      ;;
    argument)
      local -a names selected
      case $words[1] in
        get|store|erase) names=(m2m org api-base-url no-browser timeout min-ttl debug help h) ;;
        login) names=(m2m org api-base-url no-browser device timeout debug help h) ;;
        token) names=(m2m org api-base-url format min-ttl no-browser timeout debug help h) ;;
        dw) names=(m2m org api-base-url format no-browser timeout debug help h) ;;
        logout) names=(m2m org all debug help h) ;;
        status) names=(debug help h) ;;
        *) return ret ;;
      esac
      local name
      for name in $names; do
        selected+=("$spec[$name]")
      done
      curcontext=${curcontext%:*:*}:carto-auth-$words[1]:
      _arguments -S : $selected && ret=0
      ;;
  esac
  return ret
}

_carto-auth "$@"
