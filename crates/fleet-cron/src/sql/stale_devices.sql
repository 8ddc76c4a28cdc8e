-- Pollable devices of account $1 whose latest fix is older than stale_gps_sec, or missing.
SELECT d.imei
  FROM state.devices d
  LEFT JOIN state.live_positions l ON l.imei = d.imei
 WHERE d.account = $1
   AND d.enabled IS NOT false
   AND (d.expires_at IS NULL OR d.expires_at > now())
   AND NOT EXISTS (SELECT 1 FROM domain.devices x
                    WHERE x.imei = d.imei AND x.lifecycle IN ('suspended', 'decommissioned'))
   AND (l.fix_time IS NULL
        OR l.fix_time < now() - make_interval(secs => (SELECT threshold FROM slo.targets WHERE metric = 'stale_gps_sec')))
 ORDER BY d.imei
