# lifeline.sh: runs a server as a child and stops it when the parent goes away.
#
# Invoked as: sh -c "<this file's text>" devstack-lifeline <stop-signal> <command> [args...]
# (the text is passed with -c, so the file itself need not be readable by the user the server runs as).
#
# Contract:
#   stdin   the lifeline. When it reaches end-of-file (the parent closed it, exited, or was killed with
#           SIGKILL), the server receives <stop-signal> (a name such as INT or TERM).
#   stdout  exactly one line: the server's pid. The server's own stdout and stderr both go to stderr.
#   exit    once the server has exited, with the server's exit status (128 + n when killed by signal n).
# The server's stdin is /dev/null and it inherits no copy of the lifeline, so only the watcher below
# holds it. POSIX shells start background commands with SIGINT and SIGQUIT ignored; postgres and
# redis-server install their own handlers for both, so that does not change how they stop.

sig=$1
shift
exec 3<&0 0</dev/null
"$@" 1>&2 3<&- &
server=$!
echo "$server"
exec 1>/dev/null
{ read -r _; kill -s "$sig" "$server" 2>/dev/null; } <&3 &
watcher=$!
exec 3<&-
wait "$server"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
