#!/bin/sh
# A throwaway PostgreSQL server for the records tests (Debian's postgresql package): a cluster
# initdb'd in DIR, listening on 127.0.0.1 only, on a free port, with password authentication
# (scram-sha-256) for the user mesosim, whose password is only in DIR/pgpass (mode 0600, the
# file libpq reads through PGPASSFILE): never on a command line. As root, the server runs as
# the user nobody (PostgreSQL refuses to run as root).
#   pg_server.sh start DIR     initdb when DIR has no cluster, start; prints the URL
#   pg_server.sh stop DIR      stop (fast); the cluster stays for a restart
#   pg_server.sh restart DIR   start again on the same port
#   pg_server.sh destroy DIR   stop and remove DIR
set -eu
cmd=$1
dir=$2
# Debian 12 ships PostgreSQL 15; a machine with another major version has its own folder.
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] || {
    echo "pg_server.sh: no PostgreSQL server found (/usr/lib/postgresql/*/bin/pg_ctl): install Debian's postgresql package (./quickstart does)" >&2
    exit 1
}
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}
url() {
    echo "postgresql://mesosim@127.0.0.1:$(cat "$dir/port")/records"
}
start() {
    # Ports from a seed of this process; the first the server can bind is kept.
    port=$(cat "$dir/port" 2>/dev/null || echo $((20000 + $$ % 20000)))
    tries=0
    while :; do
        if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            break
        fi
        [ -f "$dir/port" ] && { echo "pg_server.sh: cannot restart on port $port (see $dir/server.log)" >&2; exit 1; }
        tries=$((tries + 1))
        [ "$tries" -lt 20 ] || { echo "pg_server.sh: no free port (see $dir/server.log)" >&2; exit 1; }
        port=$((port + 1))
    done
}
case $cmd in
start)
    mkdir -p "$dir"
    if [ ! -d "$dir/data" ]; then
        if [ "$(id -u)" -eq 0 ]; then
            chown nobody "$dir"
            runuser -u nobody -- test -w "$dir" ||
                { echo "pg_server.sh: the user nobody cannot reach $dir (make the folders above it 0711)" >&2; exit 1; }
        fi
        pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        umask 077
        printf '%s\n' "$pw" >"$dir/pwfile"
        [ "$(id -u)" -eq 0 ] && chown nobody "$dir/pwfile"
        as_server "$bin/initdb" -D "$dir/data" -U mesosim --pwfile="$dir/pwfile" --auth-host=scram-sha-256 \
            --auth-local=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        rm -f "$dir/pwfile"
        as_server mkdir -p "$dir/sock"
        start
        printf '127.0.0.1:%s:*:mesosim:%s\n' "$(cat "$dir/port")" "$pw" >"$dir/pgpass"
        chmod 600 "$dir/pgpass"
        PGPASSFILE=$dir/pgpass psql -q -h 127.0.0.1 -p "$(cat "$dir/port")" -U mesosim -d postgres \
            -c "CREATE DATABASE records" >/dev/null
    else
        start
    fi
    url
    ;;
stop)
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
restart)
    start
    url
    ;;
destroy)
    as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg_server.sh start|stop|restart|destroy DIR" >&2
    exit 2
    ;;
esac
