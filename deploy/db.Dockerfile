# syntax=docker/dockerfile:1
# Postgres 15 with PostGIS 3 and pgRouting, from Debian's own packages (the versions the
# platform is tested against). First start creates the cluster and the database named by
# POSTGRES_DB, owned by POSTGRES_USER with POSTGRES_PASSWORD (see deploy/db-entrypoint.sh).
FROM debian:bookworm-slim
# Unpinned on purpose: Debian's security updates come in with each rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
COPY --chmod=0755 deploy/db-entrypoint.sh /usr/local/bin/db-entrypoint
USER postgres
ENV PGDATA=/var/lib/postgresql/data \
    PATH=/usr/lib/postgresql/15/bin:$PATH
VOLUME /var/lib/postgresql/data
EXPOSE 5432
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["pg_isready", "-h", "127.0.0.1", "-p", "5432"]
ENTRYPOINT ["db-entrypoint"]
