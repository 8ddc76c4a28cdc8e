-- A pass's whole traversals ($1 imei, $2 segment, $3 forward, $4/$5 entered/left in epoch
-- seconds, $6 length m, $7 bucket), with their speed and EAT day of week and hour.
INSERT INTO geo.segment_observations
    (imei, segment_id, forward, entered_at, left_at, length_m, speed_kmh, dow, hod, bucket)
SELECT x.imei, x.segment_id, x.forward, e.entered_at, to_timestamp(x.left_s), x.length_m,
       x.length_m / (x.left_s - x.entered_s) * 3.6,
       extract(dow FROM e.entered_at AT TIME ZONE serve.local_tz()),
       extract(hour FROM e.entered_at AT TIME ZONE serve.local_tz()),
       x.bucket
  FROM unnest($1::text[], $2::int8[], $3::bool[], $4::float8[], $5::float8[], $6::float8[], $7::timestamptz[])
       AS x(imei, segment_id, forward, entered_s, left_s, length_m, bucket)
 CROSS JOIN LATERAL (SELECT to_timestamp(x.entered_s) AS entered_at) e
 ORDER BY 1, 4, 2, 3
ON CONFLICT DO NOTHING
