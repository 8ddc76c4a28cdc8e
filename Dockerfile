# syntax=docker/dockerfile:1
# Fleet Platform: one image, three roles by command (`gateway`, `worker`, `cron`).
#   docker build --build-arg FLEET_GIT_SHA="$(git rev-parse HEAD)" \
#                --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#                -t fleet:"$(git rev-parse --short=12 HEAD)" .
# (`make image` does exactly this.) The build stage has the toolchain; the runtime stage has the
# binary, CA certificates and nothing else, and runs as an unprivileged user.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# The commit is passed in: the build context has no .git (see .dockerignore).
ARG FLEET_GIT_SHA=unknown
ARG SOURCE_DATE_EPOCH
ENV FLEET_GIT_SHA=${FLEET_GIT_SHA} \
    SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols
COPY . .
RUN cargo build --release --locked --bin fleet \
 && install -D -m 0755 target/release/fleet /out/fleet

FROM debian:bookworm-slim AS runtime
ARG FLEET_GIT_SHA=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="Fleet Platform" \
      org.opencontainers.image.description="Fleet telematics (Tracksolid / Jimi IoT) and fuel: gateway, worker and cron in one binary" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.revision="${FLEET_GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}"
# CA certificates for the vendor API, the S3 buckets and webhooks over TLS; pg_dump/pg_restore
# (postgresql-client-15, the server's major) for `fleet backup`. Unpinned on purpose: the image
# takes Debian's security updates when it is rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/fleet --create-home fleet \
 && install -d -o fleet -g fleet /var/lib/fleet/staging
COPY --from=build /out/fleet /usr/local/bin/fleet
USER 10001:10001
WORKDIR /var/lib/fleet
ENV FLEET_LISTEN=0.0.0.0:8080 \
    FLEET_WORKER_LISTEN=0.0.0.0:8081 \
    FLEET_CRON_LISTEN=0.0.0.0:8082 \
    FLEET_LOG_FORMAT=json \
    FLEET_HOME=/var/lib/fleet
EXPOSE 8080 8081 8082
# The gateway's check; the compose file gives the worker and cron services their own.
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
  CMD ["fleet", "healthcheck", "gateway"]
ENTRYPOINT ["fleet"]
CMD ["gateway"]
