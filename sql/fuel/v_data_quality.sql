-- Records that cannot be used: kept, listed here with the reasons.
CREATE OR REPLACE VIEW fuel.v_data_quality AS
SELECT r.record_id, r.raw, r.normalise_errors AS reasons, r.warnings, r.car, r.filled_at, r.imported_at, r.raw_id
  FROM fuel.records r
 WHERE r.deleted_at IS NULL AND r.normalise_errors <> '{}';
COMMENT ON VIEW fuel.v_data_quality IS 'Fuel records kept but not usable, with why (the fix is in the feed or in fuel.mappings).';
