-- Applies operator lifecycle transitions in log order. Idempotent: a transition already applied
-- (same raw row) is skipped; one that is not legal from the device's state at that point is
-- skipped too (the API refused it up front unless two admins raced).
CREATE OR REPLACE FUNCTION domain.apply_lifecycle(transitions jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    cur text;
    n integer := 0;
BEGIN
    FOR t IN SELECT * FROM jsonb_to_recordset(transitions) AS e(
                 imei text, to_state text, actor text, reason text, raw_id bigint, received_at timestamptz)
             ORDER BY e.raw_id
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM domain.device_lifecycle_events
                               WHERE raw_id = t.raw_id AND imei = t.imei);
        SELECT lifecycle INTO cur FROM domain.devices WHERE imei = t.imei FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        CONTINUE WHEN NOT t.to_state = ANY (domain.allowed_transitions(cur));
        UPDATE domain.devices SET lifecycle = t.to_state, lifecycle_changed_at = t.received_at
         WHERE imei = t.imei;
        INSERT INTO domain.device_lifecycle_events (imei, from_state, to_state, changed_at, actor, reason, raw_id)
        VALUES (t.imei, cur, t.to_state, t.received_at, t.actor, t.reason, t.raw_id);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION domain.apply_lifecycle(jsonb) IS
    'Projector body for operator lifecycle transitions: legal ones only, in log order, each once.';
