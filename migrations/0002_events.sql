-- The event log (ARCHITECTURE §1 rules 1, 2, 4, 5).

CREATE TABLE events.raw (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    source          text        NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]{0,39}$'),
    kind            text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    content_type    text,
    body            bytea       NOT NULL,
    remote_addr     inet,
    verified        boolean     NOT NULL,
    verification    text        NOT NULL,
    meta            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    parsed_at       timestamptz,
    parser_version  integer,
    parse_error     text,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
COMMENT ON TABLE events.raw IS
    'Every inbound signal, verbatim, appended before it is interpreted. Only parsed_at, parser_version and parse_error are ever updated (enforced by trigger).';
COMMENT ON COLUMN events.raw.source IS 'jimi_push (vendor pushes), jimi_poll (Open API polls), fuel_feed, csv_import, ops (operator actions), or a configured signed source.';
COMMENT ON COLUMN events.raw.kind IS 'What the payload is: the push path (pushgps, pushalarm, ...), the polled method, the import kind.';
COMMENT ON COLUMN events.raw.body IS 'The request body exactly as received (bytes, so even invalid UTF-8 is kept).';
COMMENT ON COLUMN events.raw.verified IS 'Whether the source was verified (token, HMAC, internal). Unverified rows are never parsed.';
COMMENT ON COLUMN events.raw.verification IS 'How it was verified: token, hmac_sha256, internal, none.';
COMMENT ON COLUMN events.raw.meta IS 'Request metadata that is not the payload: poll target account, method parameters, import file name.';
COMMENT ON COLUMN events.raw.parsed_at IS 'When a parser last processed the row (NULL = waiting). The worker claims rows by this column.';
COMMENT ON COLUMN events.raw.parser_version IS 'The parser version that last processed the row; rows below the current version are re-parsed.';
COMMENT ON COLUMN events.raw.parse_error IS 'Why the last parse failed (NULL when it succeeded); such rows form the dead-letter view.';

-- The work queue: rows waiting for the parser. Small, because parsed rows leave it.
CREATE INDEX raw_pending_idx ON events.raw (received_at, id) WHERE parsed_at IS NULL;
CREATE INDEX raw_source_kind_idx ON events.raw (source, kind, received_at);
CREATE INDEX raw_failed_idx ON events.raw (received_at) WHERE parse_error IS NOT NULL;

CREATE TABLE IF NOT EXISTS events.raw_default PARTITION OF events.raw DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('events.raw', 'day', 7, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE events.parsed (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    raw_id          bigint      NOT NULL,
    raw_received_at timestamptz NOT NULL,
    item_index      integer     NOT NULL DEFAULT 0,
    parser_version  integer     NOT NULL,
    kind            text        NOT NULL,
    imei            text,
    event_time      timestamptz,
    body            jsonb       NOT NULL,
    parsed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (id, raw_received_at),
    UNIQUE (raw_received_at, raw_id, item_index, parser_version)
) PARTITION BY RANGE (raw_received_at);
COMMENT ON TABLE events.parsed IS
    'Typed events derived from events.raw by a versioned parser; one raw row can yield many (data_list arrays). Partitioned like raw so the two age together.';
COMMENT ON COLUMN events.parsed.kind IS 'Typed event kind: position_fix, heartbeat, alarm, alarm_end, device_event, obd, fuel_reading, temperature, lbs, trip, parking, device_info, ...';
COMMENT ON COLUMN events.parsed.item_index IS 'Position of the item within the raw payload (0 for single-item payloads).';
COMMENT ON COLUMN events.parsed.event_time IS 'When the event happened according to the device or vendor (UTC); received_at of the raw row is when we got it.';
COMMENT ON COLUMN events.parsed.body IS 'The normalised payload (units converted, quirks resolved) that projectors read.';

CREATE INDEX parsed_kind_time_idx ON events.parsed (kind, raw_received_at);
CREATE INDEX parsed_imei_time_idx ON events.parsed (imei, event_time);

CREATE TABLE IF NOT EXISTS events.parsed_default PARTITION OF events.parsed DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('events.parsed', 'day', 7, NULL) ON CONFLICT DO NOTHING;

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
