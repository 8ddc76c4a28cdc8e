-- The device/driver registry import (issue 4): how a registry row names a driver.

CREATE INDEX drivers_name_idx ON domain.drivers (lower(name));

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
