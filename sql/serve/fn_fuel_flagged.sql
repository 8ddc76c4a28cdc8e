-- Flagged fills with their review state (open ones first), the records that cannot be used, and
-- those that count with a value missing.
CREATE OR REPLACE FUNCTION serve.fn_fuel_flagged(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    r AS MATERIALIZED (
        SELECT r.*, f.review, f.review_reason, f.reviewed_by, f.reviewed_at, f.voided,
               r.reasons || coalesce(e.outliers, '{}') AS why
          FROM fuel.v_reconciliation r JOIN f USING (record_id)
          LEFT JOIN fuel.v_efficiency e USING (record_id)),
    flagged AS MATERIALIZED (SELECT * FROM r WHERE why <> '{}' OR review <> 'open'),
    incomplete AS MATERIALIZED (
        SELECT c.record_id, c.warnings, c.car, c.filled_at
          FROM fuel.records c
         WHERE c.deleted_at IS NULL AND c.normalise_errors = '{}' AND c.warnings <> '{}'
           AND c.filled_at >= (SELECT min(filled_at) FROM f) AND c.filled_at <= (SELECT max(filled_at) FROM f))
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('fills', (SELECT count(*) FROM r),
                                      'verified', (SELECT count(*) FROM r WHERE verified),
                                      'flagged', (SELECT count(*) FROM flagged WHERE why <> '{}'),
                                      'to_review', (SELECT count(*) FROM flagged WHERE why <> '{}' AND review = 'open'),
                                      'approved', (SELECT count(*) FROM flagged WHERE review = 'approved'),
                                      'voided', (SELECT count(*) FROM flagged WHERE review = 'voided'),
                                      'unreadable', (SELECT count(*) FROM fuel.v_data_quality),
                                      'incomplete', (SELECT count(*) FROM incomplete)),
        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                     'record_id', record_id, 'vehicle_number', vehicle_number, 'department', department,
                     'filled_local', filled_local, 'litres', litres, 'amount_kes', amount_kes, 'verified', verified,
                     'station_name', station_name, 'station_distance_m', station_distance_m,
                     'address', serve.fill_address(flagged.record_id),
                     'nearest_fix_offset_s', fix_offset_s, 'gps_km', gps_km, 'odometer_km_delta', odometer_km_delta,
                     'reasons', to_jsonb(why), 'review', review, 'review_reason', review_reason,
                     'reviewed_by', reviewed_by, 'reviewed_local', serve.local_time(reviewed_at), 'voided', voided)
                     ORDER BY review = 'open' DESC, filled_at DESC, record_id), '[]')
                   FROM flagged),
        'unreadable', (SELECT coalesce(jsonb_agg(jsonb_build_object('record_id', record_id, 'reasons', to_jsonb(reasons),
                                                                  'car', car, 'raw', raw) ORDER BY record_id), '[]')
                         FROM (SELECT * FROM fuel.v_data_quality ORDER BY record_id LIMIT 500) q),
        'incomplete', (SELECT coalesce(jsonb_agg(jsonb_build_object('record_id', record_id, 'warnings', to_jsonb(warnings),
                                                                  'car', car, 'filled_local', serve.local_time(filled_at))
                                                 ORDER BY filled_at DESC, record_id), '[]')
                         FROM (SELECT * FROM incomplete ORDER BY filled_at DESC, record_id LIMIT 500) q))
$$;
