-- The devices of one vendor account worth polling: the vendor lists them as enabled and not
-- expired, and no admin has suspended or decommissioned them.
SELECT d.imei
  FROM state.devices d
 WHERE d.account = $1
   AND d.enabled IS NOT false
   AND (d.expires_at IS NULL OR d.expires_at > now())
   AND NOT EXISTS (SELECT 1 FROM domain.devices x
                    WHERE x.imei = d.imei AND x.lifecycle IN ('suspended', 'decommissioned'))
 ORDER BY d.imei
