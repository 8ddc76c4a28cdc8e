-- Operations, the fuel module's core tables, and auth.

CREATE TABLE ops.job_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job             text NOT NULL,
    slot            timestamptz NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    outcome         text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'ok', 'error')),
    rows_affected   bigint,
    detail          text,
    host            text,
    UNIQUE (job, slot)
);
COMMENT ON TABLE ops.job_runs IS 'Every scheduled job run of the cron role: start, end, outcome, rows.';
COMMENT ON COLUMN ops.job_runs.slot IS 'The schedule slot the run belongs to; UNIQUE (job, slot) is how two cron processes never run the same job twice.';
CREATE INDEX job_runs_job_idx ON ops.job_runs (job, started_at DESC);

CREATE TABLE ops.ingestion_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    called_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    method          text NOT NULL,
    target          text,
    rows_returned   integer,
    duration_ms     integer,
    outcome         text NOT NULL,
    error_code      text,
    detail          text
);
COMMENT ON TABLE ops.ingestion_log IS 'Every vendor API call: method, target account, rows, duration, outcome.';
CREATE INDEX ingestion_log_called_idx ON ops.ingestion_log (called_at DESC);

CREATE TABLE ops.cost_rates (
    rate_key        text NOT NULL,
    valid_from      date NOT NULL,
    value           numeric(12,4) NOT NULL,
    unit            text NOT NULL,
    PRIMARY KEY (rate_key, valid_from)
);
COMMENT ON TABLE ops.cost_rates IS 'Costs used by analytics (e.g. fuel KES/L, driver hour), with the date they apply from.';

CREATE TABLE ops.tickets (
    ticket_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference       text UNIQUE,
    title           text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dispatched', 'in_progress', 'done', 'cancelled')),
    site_lat        double precision,
    site_lng        double precision,
    created_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz
);
COMMENT ON TABLE ops.tickets IS 'Field-service jobs vehicles are dispatched to.';

CREATE TABLE ops.dispatch_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint REFERENCES ops.tickets (ticket_id),
    vehicle_id      bigint REFERENCES domain.vehicles (vehicle_id),
    dispatched_at   timestamptz NOT NULL DEFAULT now(),
    arrived_at      timestamptz,
    actor           text NOT NULL
);
COMMENT ON TABLE ops.dispatch_log IS 'Which vehicle was sent to which ticket, when it arrived.';

CREATE TABLE ops.service_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id      bigint NOT NULL REFERENCES domain.vehicles (vehicle_id),
    serviced_at     timestamptz NOT NULL,
    odometer_km     numeric(10,1),
    description     text NOT NULL,
    cost_kes        numeric(12,2),
    actor           text NOT NULL,
    raw_id          bigint,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.service_log IS 'Maintenance and repairs per vehicle.';

CREATE TABLE ops.odometer_readings (
    vehicle_id      bigint NOT NULL REFERENCES domain.vehicles (vehicle_id),
    read_at         timestamptz NOT NULL,
    odometer_km     numeric(10,1) NOT NULL CHECK (odometer_km >= 0),
    source          text NOT NULL,
    PRIMARY KEY (vehicle_id, read_at, source)
);
COMMENT ON TABLE ops.odometer_readings IS 'Odometer readings from services, fuel fills and manual entry.';

CREATE TABLE ops.alarm_acks (
    imei            text NOT NULL,
    alarm_type      text NOT NULL,
    alarm_time      timestamptz NOT NULL,
    acked_at        timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    note            text,
    raw_id          bigint,
    PRIMARY KEY (imei, alarm_type, alarm_time)
);
COMMENT ON TABLE ops.alarm_acks IS 'Operator acknowledgements of alarms (keyed like state.alarms).';

CREATE TABLE fuel.records (
    record_id       text PRIMARY KEY,
    raw             jsonb NOT NULL,
    raw_id          bigint,
    source_created_at timestamptz,
    source_updated_at timestamptz,
    deleted_at      timestamptz,
    car             text,
    plate_key       text,
    litres          numeric(10,2),
    amount_kes      numeric(12,2),
    odometer_km     numeric(10,1),
    fuel_type       text,
    driver          text,
    department      text,
    filled_at       timestamptz,
    normalise_errors text[] NOT NULL DEFAULT '{}',
    imported_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE fuel.records IS 'One row per fill from the WhatsApp feed: the raw record verbatim plus normalised columns derived in one place; soft-deleted rows keep deleted_at.';
COMMENT ON COLUMN fuel.records.normalise_errors IS 'Why a field could not be normalised; non-empty rows are listed in the data-quality view, never dropped.';
CREATE INDEX fuel_records_plate_time_idx ON fuel.records (plate_key, filled_at);
CREATE INDEX fuel_records_filled_idx ON fuel.records (filled_at);

CREATE TABLE fuel.mappings (
    kind            text NOT NULL CHECK (kind IN ('plate', 'fuel_type', 'department')),
    raw_value       text NOT NULL,
    canonical       text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, raw_value)
);
COMMENT ON TABLE fuel.mappings IS 'Operator-extensible spellings: raw value (normalised for lookup) -> canonical value.';

CREATE TABLE fuel.import_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mode            text NOT NULL CHECK (mode IN ('snapshot', 'changes', 'file')),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    applied         boolean NOT NULL,
    inserted        integer NOT NULL DEFAULT 0,
    updated         integer NOT NULL DEFAULT 0,
    deleted         integer NOT NULL DEFAULT 0,
    rejected        integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    watermark       text,
    detail          text
);
COMMENT ON TABLE fuel.import_runs IS 'Every fuel import (dry-run or applied) and its counts; the newest applied changes run holds the watermark.';

CREATE TABLE auth.accounts (
    account_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    kind            text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'service')),
    password_hash   text NOT NULL,
    scopes          text[] NOT NULL DEFAULT '{}'
                    CHECK (scopes <@ ARRAY['read:fleet', 'write:ops', 'admin:fleet']),
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth.accounts IS 'Users and service accounts: argon2 password hash and scopes.';

CREATE TABLE auth.refresh_tokens (
    token_hash      text PRIMARY KEY,
    account_id      bigint NOT NULL REFERENCES auth.accounts (account_id),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz
);
COMMENT ON TABLE auth.refresh_tokens IS 'Refresh tokens (only their SHA-256 is stored).';

CREATE TABLE auth.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    action          text NOT NULL,
    target          text,
    remote_addr     inet,
    outcome         text NOT NULL,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb
);
COMMENT ON TABLE auth.audit_log IS 'Every login and every write: who, what, when, from where.';
CREATE INDEX audit_log_at_idx ON auth.audit_log (at DESC);
