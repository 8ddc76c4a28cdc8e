#!/bin/sh
# Writes pgbouncer.ini and the auth file from the environment, then runs pgbouncer in the
# foreground. PGBOUNCER_POOL_MODE other than "session" is refused: see pgbouncer.Dockerfile.
set -eu
: "${DB_HOST:?}" "${DB_USER:?}" "${DB_PASSWORD:?}" "${DB_NAME:=fleet}"
mode="${PGBOUNCER_POOL_MODE:-session}"
if [ "$mode" != "session" ]; then
  echo "pgbouncer: pool_mode=$mode would break Fleet Platform (LISTEN/NOTIFY, advisory locks, prepared statements); use session" >&2
  exit 2
fi
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > /etc/pgbouncer/userlist.txt
cat > /etc/pgbouncer/pgbouncer.ini <<INI
[databases]
${DB_NAME} = host=${DB_HOST} port=${DB_PORT:-5432} dbname=${DB_NAME}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = session
max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-500}
default_pool_size = ${PGBOUNCER_POOL_SIZE:-40}
ignore_startup_parameters = extra_float_digits,search_path
INI
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
