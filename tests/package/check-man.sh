#!/usr/bin/env bash
# eniroute(8) and eniroute.conf(5) against the program: every command and option of the
# packaged binary's `--help` is in eniroute(8) (the man page may document more, e.g. a command
# the binary does not have yet - listed as a note, not a failure), every configuration key is in
# eniroute.conf(5) and eniroute(8); both pages render without groff warnings; the bash
# completion knows every command and option.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

help_text() {
    [ -n "${PKG_HELP:-}" ] || PKG_HELP=$("$(unpacked)/usr/sbin/eniroute" --help)
    echo "$PKG_HELP"
}

# Commands: the first word of the indented lines under "Commands:".
help_commands() {
    help_text | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p'
}

# Options: every --long option and -h anywhere in the help text.
help_options() {
    help_text | grep -oE '(^|[[:space:],|[])(--[a-z][a-z0-9-]*|-h)\b' | sed 's/^[[:space:],|[]//' | sort -u
}

# A page as plain ASCII text (hyphens as '-').
declare -A PKG_RENDERED=()
rendered() {
    [ -n "${PKG_RENDERED[$1]:-}" ] || PKG_RENDERED[$1]=$(LC_ALL=C MANWIDTH=200 man -l "$1" 2>/dev/null | col -b)
    echo "${PKG_RENDERED[$1]}"
}

page() { echo "$(unpacked)/usr/share/man/$1"; }

man_warnings() {
    local out
    out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$1" 2>&1 >/dev/null)
    [ -z "$out" ] || { echo "$out"; return 1; }
}

# missing_words TEXT BEFORE AFTER MESSAGE WORD...: every WORD stands in TEXT between the extended
# regexes BEFORE and AFTER; prints MESSAGE (a printf format, %s the word) for each one that does not.
missing_words() {
    local text=$1 before=$2 after=$3 message=$4 w missing=0
    shift 4
    for w in "$@"; do
        # shellcheck disable=SC2059 # the message is a format
        grep -qE -- "$before$w$after" <<<"$text" || { printf "$message\n" "$w"; missing=1; }
    done
    return "$missing"
}

# Around a word that stands alone, not inside a longer option, key or command name.
NOT_WORD_BEFORE='(^|[^a-z-])' NOT_WORD_AFTER='([^a-z-]|$)'

every_command_in_man() {
    # shellcheck disable=SC2046 # one word a command
    missing_words "$(rendered "$(page man8/eniroute.8.gz)")" '^ +(eniroute )?' '\b' \
        "command '%s' of --help is not in eniroute(8)" $(help_commands)
}

every_option_in_man() {
    # shellcheck disable=SC2046
    missing_words "$(rendered "$(page man8/eniroute.8.gz)")" "$NOT_WORD_BEFORE" "$NOT_WORD_AFTER" \
        "option '%s' of --help is not in eniroute(8)" $(help_options)
}

every_key_in() {
    # shellcheck disable=SC2046
    missing_words "$(rendered "$1")" "$NOT_WORD_BEFORE" "$NOT_WORD_AFTER" \
        "key '%s' is not in $(basename "$1")" $(config_keys)
}

exit_codes_in_man() {
    local text c
    text=$(rendered "$(page man8/eniroute.8.gz)" | sed -n '/^EXIT STATUS/,/^[A-Z]/p')
    for c in $(help_text | sed -n 's/.*Exit codes: //p' | grep -oE '\b[0-9]+\b'); do
        grep -qE "^ +$c +" <<<"$text" || { echo "exit code $c not under EXIT STATUS"; return 1; }
    done
}

completion_knows_everything() {
    local f
    f=$(unpacked)/usr/share/bash-completion/completions/eniroute
    bash -n "$f" || return 1
    # shellcheck disable=SC2046
    missing_words "$(<"$f")" "$NOT_WORD_BEFORE" "$NOT_WORD_AFTER" "'%s' is not in the bash completion" \
        $(help_commands) $(help_options | grep -- '^--')
}

completion_works() {
    # Complete "eniroute pl" and "eniroute status --" in a bash with the completion loaded.
    local f
    f=$(unpacked)/usr/share/bash-completion/completions/eniroute
    bash -c '
        _init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
        source "$1"
        COMP_WORDS=(eniroute pl); COMP_CWORD=1; _eniroute; [ "${COMPREPLY[*]}" = plan ] || { echo "pl -> ${COMPREPLY[*]}"; exit 1; }
        COMP_WORDS=(eniroute status --j); COMP_CWORD=2; _eniroute; [ "${COMPREPLY[*]}" = --json ] || { echo "status --j -> ${COMPREPLY[*]}"; exit 1; }
        COMP_WORDS=(eniroute --log-level de); COMP_CWORD=2; _eniroute; [ "${COMPREPLY[*]}" = debug ] || { echo "--log-level de -> ${COMPREPLY[*]}"; exit 1; }
    ' _ "$f"
}

check_man() {
    require_deb || return
    # Fill the caches here, in this shell: the checks run in subshells.
    PKG_HELP=$("$(unpacked)/usr/sbin/eniroute" --help)
    local p
    for p in "$(page man8/eniroute.8.gz)" "$(page man5/eniroute.conf.5.gz)"; do
        PKG_RENDERED[$p]=$(LC_ALL=C MANWIDTH=200 man -l "$p" 2>/dev/null | col -b)
    done
    note "--help commands: $(help_commands | tr '\n' ' ')"
    note "--help options: $(help_options | tr '\n' ' ')"
    local c extra=()
    for c in apply plan remove status watch version; do
        help_commands | grep -qx "$c" || extra+=("$c")
    done
    [ ${#extra[@]} -eq 0 ] || note "documented in eniroute(8) but not in --help (allowed): ${extra[*]}"
    check "eniroute(8) renders without groff warnings" man_warnings "$(page man8/eniroute.8.gz)"
    check "eniroute.conf(5) renders without groff warnings" man_warnings "$(page man5/eniroute.conf.5.gz)"
    check "every command of --help is in eniroute(8)" every_command_in_man
    check "every option of --help is in eniroute(8)" every_option_in_man
    check "every exit code of --help is under EXIT STATUS in eniroute(8)" exit_codes_in_man
    check "every configuration key is in eniroute.conf(5)" every_key_in "$(page man5/eniroute.conf.5.gz)"
    check "every configuration key is in eniroute(8)" every_key_in "$(page man8/eniroute.8.gz)"
    check "the bash completion knows every command and --option of --help" completion_knows_everything
    check "the bash completion completes commands, options and values" completion_works
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone "man pages and completion" check_man
