-- The per-vehicle live table (issue 20 item 2): one row per unit (a vehicle, or a tracker on no
-- vehicle) with the device the dedup rule shows and that device's latest fix, kept by triggers on
-- its sources inside the projectors' own transactions (state.refresh_live_units), so a snapshot
-- reads it instead of re-deriving the fleet per request. Operational state is not stored
-- (ARCHITECTURE rule 6): it is computed from these columns when read.
CREATE SEQUENCE state.live_units_seq;
CREATE TABLE state.live_units (
    unit_key        text PRIMARY KEY,
    vehicle_id      bigint,
    -- the device shown: the freshest non-suspended one of the vehicle
    imei            text NOT NULL,
    -- every tracker of the unit (a filter by any of their IMEIs finds it)
    imeis           text[] NOT NULL,
    lifecycle       text NOT NULL,
    fix_time        timestamptz,
    received_at     timestamptz,
    lat             double precision,
    lng             double precision,
    speed_kmh       real,
    heading         smallint,
    acc_on          boolean,
    odometer_m      bigint,
    -- a unit that no longer exists (its vehicle lost its last device, a tracker was fitted to a
    -- vehicle or decommissioned): kept as a tombstone so the live stream can say it went
    removed         boolean NOT NULL DEFAULT false,
    -- bumped (state.live_units_seq) whenever the row changes; the live stream reads by it
    seq             bigint NOT NULL
);
COMMENT ON TABLE state.live_units IS 'One row per unit (vehicle, or tracker on no vehicle): the device the dedup rule shows and its latest fix; removed rows are tombstones. Writer: state.refresh_live_units, run by triggers on state.live_positions, domain.devices and domain.device_assignments.';
CREATE INDEX live_units_seq_idx ON state.live_units (seq);
-- the age a unit's state is computed from starts here (a fix is never fresher than its arrival)
CREATE INDEX live_units_seen_idx ON state.live_units (least(fix_time, received_at)) WHERE NOT removed;
CREATE INDEX live_units_imei_idx ON state.live_units (imei);
CREATE INDEX live_units_vehicle_idx ON state.live_units (vehicle_id) WHERE vehicle_id IS NOT NULL;
