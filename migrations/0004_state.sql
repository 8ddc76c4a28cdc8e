-- Derived state. Each table has exactly one writer: the projector named in its comment
-- (ARCHITECTURE §1 rule 5). Natural keys make re-projection idempotent. Coordinates are WGS84;
-- (0,0) fixes from expired devices are never projected, enforced here as well as in code.

CREATE TABLE state.devices (
    imei            text PRIMARY KEY,
    account         text,
    device_name     text,
    model           text,
    sim             text,
    iccid           text,
    vehicle_name    text,
    vehicle_number  text,
    driver_name     text,
    driver_phone    text,
    enabled         boolean,
    activated_at    timestamptz,
    expires_at      timestamptz,
    current_mileage_km numeric(12,1),
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_time     timestamptz NOT NULL,
    raw_id          bigint,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE state.devices IS 'Device registry as the vendor reports it (device list/detail, login events). Writer: the device registry projector.';

CREATE TABLE state.live_positions (
    imei            text PRIMARY KEY,
    fix_time        timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    lat             double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng             double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    geom            geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lng, lat), 4326)) STORED,
    speed_kmh       real,
    heading         smallint,
    acc_on          boolean,
    pos_type        text,
    satellites      smallint,
    odometer_m      bigint,
    source          text NOT NULL,
    raw_id          bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT (lat = 0 AND lng = 0))
);
COMMENT ON TABLE state.live_positions IS 'Latest fix per device. Monotonic: only a newer fix_time replaces a row. Writer: the positions projector.';
CREATE INDEX live_positions_geom_idx ON state.live_positions USING gist (geom);

CREATE TABLE state.position_history (
    imei            text NOT NULL,
    fix_time        timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    lat             double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng             double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    speed_kmh       real,
    heading         smallint,
    acc_on          boolean,
    pos_type        text,
    satellites      smallint,
    altitude_m      real,
    odometer_m      bigint,
    gps_mode        smallint,
    source          text NOT NULL,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, fix_time),
    CHECK (NOT (lat = 0 AND lng = 0))
) PARTITION BY RANGE (fix_time);
COMMENT ON TABLE state.position_history IS 'Every fix (pushed or polled), one row per device and fix time. Writer: the positions projector.';
CREATE TABLE IF NOT EXISTS state.position_history_default PARTITION OF state.position_history DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.position_history', 'day', 7, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE state.trips (
    imei            text NOT NULL,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    start_lat       double precision,
    start_lng       double precision,
    end_lat         double precision,
    end_lng         double precision,
    distance_m      double precision CHECK (distance_m >= 0),
    duration_s      integer CHECK (duration_s >= 0),
    avg_speed_kmh   real,
    max_speed_kmh   real,
    fuel_l          real,
    start_odometer_m bigint,
    end_odometer_m  bigint,
    source          text NOT NULL,
    raw_id          bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (imei, start_time),
    CHECK (end_time >= start_time)
);
COMMENT ON TABLE state.trips IS 'Closed trips (vendor trip reports and polled mileage). Writer: the trips projector.';
CREATE INDEX trips_start_idx ON state.trips (start_time);

CREATE TABLE state.parking_events (
    imei            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('parking', 'idling')),
    start_time      timestamptz NOT NULL,
    end_time        timestamptz,
    duration_s      integer CHECK (duration_s >= 0),
    lat             double precision,
    lng             double precision,
    address         text,
    source          text NOT NULL,
    raw_id          bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (imei, kind, start_time)
);
COMMENT ON TABLE state.parking_events IS 'Stops: parking (ignition off) and idling (ignition on, stationary). Writer: the parking projector.';
CREATE INDEX parking_events_start_idx ON state.parking_events (start_time);

CREATE TABLE state.alarms (
    imei            text NOT NULL,
    alarm_type      text NOT NULL,
    alarm_time      timestamptz NOT NULL,
    alarm_name      text,
    lat             double precision,
    lng             double precision,
    speed_kmh       real,
    alert_value     text,
    ended_at        timestamptz,
    end_raw_id      bigint,
    source          text NOT NULL,
    raw_id          bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (imei, alarm_type, alarm_time)
);
COMMENT ON TABLE state.alarms IS 'Alarms (device numeric types and platform text types) with their end when the device clears them. Writer: the alarms projector.';
CREATE INDEX alarms_time_idx ON state.alarms (alarm_time);
CREATE INDEX alarms_open_idx ON state.alarms (imei, alarm_type) WHERE ended_at IS NULL;

-- Time-series readings: partitioned by their own time, one row per device and time.
CREATE TABLE state.heartbeats (
    imei            text NOT NULL,
    gate_time       timestamptz NOT NULL,
    power_level     smallint,
    gsm_signal      smallint,
    acc_on          boolean,
    power_status    text,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, gate_time)
) PARTITION BY RANGE (gate_time);
COMMENT ON TABLE state.heartbeats IS 'Device heartbeats (battery, signal, ACC). Writer: the heartbeats projector.';
CREATE TABLE IF NOT EXISTS state.heartbeats_default PARTITION OF state.heartbeats DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.heartbeats', 'day', 7, interval '180 days') ON CONFLICT DO NOTHING;

CREATE TABLE state.device_events (
    imei            text NOT NULL,
    event_time      timestamptz NOT NULL,
    event_type      text NOT NULL,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, event_time, event_type)
) PARTITION BY RANGE (event_time);
COMMENT ON TABLE state.device_events IS 'Device events such as LOGIN/LOGOUT and power events. Writer: the device events projector.';
CREATE TABLE IF NOT EXISTS state.device_events_default PARTITION OF state.device_events DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.device_events', 'month', 2, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE state.obd_readings (
    imei            text NOT NULL,
    reading_time    timestamptz NOT NULL,
    odometer_km     double precision,
    fuel_remaining  double precision,
    fuel_remaining_pct real,
    coolant_temp_c  real,
    battery_v       real,
    rpm             integer,
    speed_kmh       real,
    vin             text,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, reading_time)
) PARTITION BY RANGE (reading_time);
COMMENT ON TABLE state.obd_readings IS 'OBD diagnostics. Writer: the OBD projector.';
CREATE TABLE IF NOT EXISTS state.obd_readings_default PARTITION OF state.obd_readings DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.obd_readings', 'month', 2, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE state.fuel_readings (
    imei            text NOT NULL,
    reading_time    timestamptz NOT NULL,
    fuel_l          double precision,
    fuel_pct        real,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, reading_time)
) PARTITION BY RANGE (reading_time);
COMMENT ON TABLE state.fuel_readings IS 'Fuel-level sensor readings (pushoil). Writer: the sensor readings projector.';
CREATE TABLE IF NOT EXISTS state.fuel_readings_default PARTITION OF state.fuel_readings DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.fuel_readings', 'month', 2, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE state.temperature_readings (
    imei            text NOT NULL,
    reading_time    timestamptz NOT NULL,
    temperature_c   real,
    sensor          text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, reading_time, sensor)
) PARTITION BY RANGE (reading_time);
COMMENT ON TABLE state.temperature_readings IS 'Temperature sensor readings (pushtem). Writer: the sensor readings projector.';
CREATE TABLE IF NOT EXISTS state.temperature_readings_default PARTITION OF state.temperature_readings DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.temperature_readings', 'month', 2, NULL) ON CONFLICT DO NOTHING;

CREATE TABLE state.lbs_readings (
    imei            text NOT NULL,
    gate_time       timestamptz NOT NULL,
    mcc             integer,
    mnc             integer,
    cells           jsonb NOT NULL DEFAULT '[]'::jsonb,
    raw_id          bigint NOT NULL,
    PRIMARY KEY (imei, gate_time)
) PARTITION BY RANGE (gate_time);
COMMENT ON TABLE state.lbs_readings IS 'Cell-tower (LBS) reports: mcc, mnc and cells [{lac, ci, rssi}]. Writer: the sensor readings projector.';
CREATE TABLE IF NOT EXISTS state.lbs_readings_default PARTITION OF state.lbs_readings DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('state.lbs_readings', 'month', 2, interval '365 days') ON CONFLICT DO NOTHING;

CREATE TABLE state.geocoded_positions (
    lat_e5          integer NOT NULL,
    lng_e5          integer NOT NULL,
    address         text,
    provider        text NOT NULL,
    geocoded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lat_e5, lng_e5)
);
COMMENT ON TABLE state.geocoded_positions IS 'Reverse-geocoded addresses keyed by position rounded to 1e-5 degrees (~1 m). Writer: the geocoder (asynchronous enrichment).';
