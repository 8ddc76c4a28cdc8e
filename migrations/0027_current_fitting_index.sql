-- A tracker's current fitting, found by its IMEI: the live units' fix path and their scope
-- (state.live_units_for_fixes, state.refresh_live_units) look it up for every fix of a
-- statement, and the exclusion index on (imei, during) does not serve "imei = ANY (...)".
-- Unique: the exclusion constraint already allows one open fitting per tracker.
CREATE UNIQUE INDEX device_assignments_current_idx ON domain.device_assignments (imei) WHERE upper_inf(during);
