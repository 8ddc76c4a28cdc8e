# syntax=docker/dockerfile:1
# pgbouncer from Debian's package (1.18 on bookworm), in SESSION pooling: transaction pooling
# breaks LISTEN/NOTIFY, session advisory locks and sqlx's named prepared statements, which
# 1.18 cannot keep across transactions. Only the gateway's reads and pushes go through it; the
# worker (LISTEN, migrations) and cron (advisory-locked jobs) connect to Postgres directly.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbouncer postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres /etc/pgbouncer /var/run/pgbouncer
COPY --chmod=0755 deploy/pgbouncer-entrypoint.sh /usr/local/bin/pgbouncer-entrypoint
USER postgres
EXPOSE 6432
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=5 \
  CMD ["pg_isready", "-h", "127.0.0.1", "-p", "6432"]
ENTRYPOINT ["pgbouncer-entrypoint"]
