-- Devices of account $1 with a fix at or above the moving threshold since $2.
SELECT DISTINCT h.imei
  FROM state.position_history h
  JOIN state.devices d ON d.imei = h.imei AND d.account = $1
 WHERE h.fix_time >= $2
   AND h.speed_kmh >= (SELECT threshold FROM slo.targets WHERE metric = 'moving_speed_kmh')
   AND NOT EXISTS (SELECT 1 FROM domain.devices x
                    WHERE x.imei = h.imei AND x.lifecycle IN ('suspended', 'decommissioned'))
 ORDER BY h.imei
