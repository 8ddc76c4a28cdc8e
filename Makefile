# Fleet Platform — the two commands are `make up` and `make test`.
.PHONY: up test lint fmt schema openapi bench image build bootstrap clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	cargo build --release --bin fleet

## Install what is missing, build, and run the whole platform locally (Ctrl-C stops it).
up: build
	./target/release/fleet up

## Install what is missing and run every test against real Postgres (and headless Chromium).
test:
	@scripts/bootstrap test
	scripts/test

## rustfmt check + clippy with warnings denied; the deployment files (hadolint, compose).
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	scripts/check-deploy

## The production image, tagged by commit (Dockerfile; needs a container engine).
image:
	docker build --build-arg FLEET_GIT_SHA="$$(git rev-parse HEAD)" --build-arg BUILD_DATE="$$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t fleet:"$$(git rev-parse --short=12 HEAD)" .

fmt:
	cargo fmt --all

## Every benchmark, each against a scratch database on the local (or DATABASE_URL) server.
bench: build
	./target/release/fleet bench ingest
	./target/release/fleet bench views
	./target/release/fleet bench polls
	./target/release/fleet bench fuel

## Regenerate schema/schema.sql from the migrations (CI checks it is current).
schema: bootstrap
	UPDATE_SCHEMA=1 scripts/test -p fleet-store --test migrations checked_in_schema_dump_is_current

openapi: bootstrap
	UPDATE_SNAPSHOT=1 scripts/test -p fleet-serve --test api the_openapi_document_matches_its_snapshot

clean:
	cargo clean
