-- Schemas, extensions and the time-partitioning machinery every partitioned table uses.
--
-- Partitioning model: each partitioned table is registered in ops.partitioned_tables with its
-- granularity (day or month), how many future partitions to keep ready, and an optional retention.
-- ops.maintain_partitions() (run by the cron role daily and once by every migration run) creates
-- the upcoming partitions and drops those past retention. Every partitioned table also has a
-- DEFAULT partition so that a row with an unexpected time (a tracker with a broken clock) is
-- stored, never rejected; maintenance moves such rows into their proper partition once it exists.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE SCHEMA IF NOT EXISTS events;
COMMENT ON SCHEMA events IS 'The immutable event log: raw inbound signals and their parsed form (ARCHITECTURE §1.1).';
CREATE SCHEMA IF NOT EXISTS state;
COMMENT ON SCHEMA state IS 'Derived state written only by projectors; any table can be rebuilt from events.';
CREATE SCHEMA IF NOT EXISTS domain;
COMMENT ON SCHEMA domain IS 'Master data: accounts, vehicles, devices (lifecycle), drivers, cost centres, cities.';
CREATE SCHEMA IF NOT EXISTS geo;
COMMENT ON SCHEMA geo IS 'OSM road graph (pgRouting), map-matched observations, speed bands, POIs.';
CREATE SCHEMA IF NOT EXISTS slo;
COMMENT ON SCHEMA slo IS 'Service-level objectives and operational thresholds, and their measurements.';
CREATE SCHEMA IF NOT EXISTS serve;
COMMENT ON SCHEMA serve IS 'The read contract: functions and views the API serves.';
CREATE SCHEMA IF NOT EXISTS ops;
COMMENT ON SCHEMA ops IS 'Operations: job runs, ingestion log, tickets, service log, alarm acknowledgements, partition registry.';
CREATE SCHEMA IF NOT EXISTS fuel;
COMMENT ON SCHEMA fuel IS 'The fuel module: fills from the WhatsApp feed, normalisation mappings, import runs.';
CREATE SCHEMA IF NOT EXISTS auth;
COMMENT ON SCHEMA auth IS 'Users and service accounts, refresh tokens, audit log.';

CREATE TABLE ops.partitioned_tables (
    parent          regclass PRIMARY KEY,
    granularity     text     NOT NULL CHECK (granularity IN ('day', 'month')),
    premake         integer  NOT NULL DEFAULT 7 CHECK (premake BETWEEN 1 AND 366),
    retention       interval,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.partitioned_tables IS
    'Registry of range-partitioned tables: ops.maintain_partitions() keeps premake future partitions ready and drops those older than retention (NULL keeps forever).';

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
