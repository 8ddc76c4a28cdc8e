-- The live map's features, one per unit of serve.fleet_units (NULL unit_keys: every unit), as the
-- snapshot (serve.fn_live_view) and the stream (serve.fn_live_changes) both send them, so a dot
-- drawn from either is the same dot. A caller selects `feature` or `compact`, never both: the
-- function is inlined, so the one not selected is never built. `seq` is the unit's row version: a page applies a feature
-- only when it is at least as new as the one it has.
CREATE OR REPLACE FUNCTION serve.live_features(filters jsonb, unit_keys text[])
RETURNS TABLE (unit_key text, sort_key text, state text, below_fresh boolean, lat double precision,
               lng double precision, feature json, compact json)
LANGUAGE sql STABLE AS $$
    SELECT p.unit_key, p.vehicle_number, p.state, coalesce(p.below_fresh, false), p.lat, p.lng,
           json_build_object(
               'type', 'Feature',
               'id', p.unit_key,
               'geometry', CASE WHEN p.lat IS NOT NULL THEN json_build_object(
                               'type', 'Point', 'coordinates', json_build_array(p.lng, p.lat)) END,
               'properties', json_build_object(
                   'vehicle_number', p.vehicle_number,
                   'plate_tail', serve.plate_tail(coalesce(p.plate_key, serve.normalize_plate(p.vehicle_number))),
                   'imei', p.imei,
                   'devices', p.devices,
                   'state', p.state,
                   'style_class', 'vehicle-' || p.state,
                   'lifecycle', p.lifecycle,
                   'cost_centre', p.cost_centre,
                   'colour', p.colour,
                   'city', p.city,
                   'account', p.account,
                   'driver_name', p.driver_name,
                   'driver_phone', p.driver_phone,
                   'speed_kmh', p.speed_kmh,
                   'heading', p.heading,
                   'acc_on', p.acc_on,
                   'odometer_km', round(p.odometer_m / 1000.0, 1),
                   'fix_time', p.fix_time,
                   'fix_time_local', serve.local_time(p.fix_time),
                   'age_s', floor(p.age_s)::integer,
                   'below_freshness', coalesce(p.below_fresh, false),
                   'address', g.address,
                   'assigned', p.vehicle_id IS NOT NULL,
                   'seq', p.seq)),
           -- the compact row (GET /api/views/live?format=compact), in serve.live_compact_columns() order
           json_build_array(p.unit_key, p.vehicle_number, p.lng, p.lat, p.state, p.speed_kmh, p.heading,
                            p.acc_on, floor(extract(epoch FROM p.fix_time))::bigint, floor(p.age_s)::integer,
                            p.colour, p.cost_centre, p.driver_name, g.address, p.imei, p.devices, p.seq)
      FROM serve.fleet_units(filters, unit_keys) p
      -- the geocoder's cached address (serve.address_at's lookup, joined: a function per row is
      -- not inlined)
      LEFT JOIN state.geocoded_positions g ON g.lat_e5 = geo.geocode_key(p.lat) AND g.lng_e5 = geo.geocode_key(p.lng)
$$;
COMMENT ON FUNCTION serve.live_features(jsonb, text[]) IS
    'The live map''s GeoJSON features (state, style_class, colour, plate tail, EAT times, address, seq) and compact rows of the units serve.fleet_units picks; shared by the snapshot and the stream.';

CREATE OR REPLACE FUNCTION serve.live_compact_columns() RETURNS json LANGUAGE sql IMMUTABLE AS $$
    SELECT '["id", "vehicle_number", "lng", "lat", "state", "speed_kmh", "heading", "acc_on", "fix_time", "age_s", "colour", "cost_centre", "driver_name", "address", "imei", "devices", "seq"]'::json
$$;
COMMENT ON FUNCTION serve.live_compact_columns() IS
    'The columns of a compact live row (serve.live_features.compact); fix_time in Unix seconds.';

-- The live view's and the stream's encoding: true for "compact" (rows of columns), false for
-- "geojson" (the default); anything else is the caller's error.
CREATE OR REPLACE FUNCTION serve.live_format(format text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF format IS NULL OR format = 'geojson' THEN
        RETURN false;
    ELSIF format = 'compact' THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'format is "geojson" (the default) or "compact" (rows of columns), not "%"', format
          USING ERRCODE = '22023';
END $$;
COMMENT ON FUNCTION serve.live_format(text) IS
    'Whether a live view or stream format asks for compact rows (geojson: false); a bad format is a 22023 error naming both.';
