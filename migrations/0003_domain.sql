-- Master data. Lifecycle (stored, changed only by admin transitions) is kept apart from
-- operational state (computed from the latest fix, never stored): ARCHITECTURE §1 rule 6.

CREATE TABLE domain.accounts (
    account         text PRIMARY KEY CHECK (length(account) BETWEEN 1 AND 100),
    display_name    text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.accounts IS 'Vendor sub-accounts (Tracksolid targets); every device belongs to exactly one.';

CREATE TABLE domain.cost_centres (
    code            text PRIMARY KEY,
    name            text NOT NULL,
    colour          text CHECK (colour ~ '^#[0-9a-fA-F]{6}$'),
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.cost_centres IS 'Cost centres (departments) vehicles are charged to; colour is the map palette entry.';

CREATE TABLE domain.assigned_cities (
    city            text PRIMARY KEY,
    country_code    text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    time_zone       text NOT NULL DEFAULT 'Africa/Nairobi',
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.assigned_cities IS 'Cities vehicles are based in (Nairobi, Mombasa, Kampala, ...).';

CREATE TABLE domain.vehicles (
    vehicle_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_number  text NOT NULL,
    plate_key       text NOT NULL UNIQUE,
    vehicle_name    text,
    make            text,
    model           text,
    vehicle_type    text,
    fuel_type       text,
    tank_litres     numeric(7,1) CHECK (tank_litres > 0),
    expected_l_per_100km numeric(5,2) CHECK (expected_l_per_100km > 0),
    cost_centre     text REFERENCES domain.cost_centres (code),
    assigned_city   text REFERENCES domain.assigned_cities (city),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.vehicles IS 'Vehicles, identified by plate. plate_key is the normalised plate (serve.normalize_plate) used for every join.';
COMMENT ON COLUMN domain.vehicles.vehicle_number IS 'The plate as written by the fleet (e.g. "KCA 542Q").';

CREATE TABLE domain.devices (
    imei            text PRIMARY KEY CHECK (imei ~ '^[0-9A-Za-z]{6,20}$'),
    account         text NOT NULL REFERENCES domain.accounts (account),
    model           text,
    sim             text,
    lifecycle       text NOT NULL DEFAULT 'provisioned'
                    CHECK (lifecycle IN ('provisioned', 'active', 'suspended', 'decommissioned')),
    lifecycle_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.devices IS 'Trackers. lifecycle changes only by explicit admin transitions (audited in domain.device_lifecycle_events).';

CREATE TABLE domain.device_lifecycle_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    imei            text NOT NULL REFERENCES domain.devices (imei),
    from_state      text,
    to_state        text NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    reason          text,
    raw_id          bigint
);
COMMENT ON TABLE domain.device_lifecycle_events IS 'History of lifecycle transitions: who moved which device from what to what, and why.';
CREATE INDEX device_lifecycle_events_imei_idx ON domain.device_lifecycle_events (imei, changed_at);

CREATE TABLE domain.device_assignments (
    imei            text NOT NULL REFERENCES domain.devices (imei),
    vehicle_id      bigint NOT NULL REFERENCES domain.vehicles (vehicle_id),
    during          tstzrange NOT NULL DEFAULT tstzrange(now(), NULL),
    assigned_by     text,
    PRIMARY KEY (imei, during),
    EXCLUDE USING gist (imei WITH =, during WITH &&)
);
COMMENT ON TABLE domain.device_assignments IS 'Which vehicle a device is fitted to, over time. A device is on one vehicle at a time; a vehicle may carry several devices.';
CREATE INDEX device_assignments_vehicle_idx ON domain.device_assignments (vehicle_id);

CREATE TABLE domain.drivers (
    driver_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL,
    phone           text,
    employee_no     text UNIQUE,
    cost_centre     text REFERENCES domain.cost_centres (code),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE domain.drivers IS 'Drivers (from the HR extract / CSV import).';

CREATE TABLE domain.driver_assignments (
    driver_id       bigint NOT NULL REFERENCES domain.drivers (driver_id),
    vehicle_id      bigint NOT NULL REFERENCES domain.vehicles (vehicle_id),
    during          tstzrange NOT NULL DEFAULT tstzrange(now(), NULL),
    assigned_by     text,
    PRIMARY KEY (vehicle_id, during),
    EXCLUDE USING gist (vehicle_id WITH =, during WITH &&)
);
COMMENT ON TABLE domain.driver_assignments IS 'Who drives which vehicle, over time (one driver per vehicle at a time).';
CREATE INDEX driver_assignments_driver_idx ON domain.driver_assignments (driver_id);

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
