CREATE OR REPLACE FUNCTION serve.alarm_class(alarm_type text, alarm_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN alarm_type IN ('41', '48', '43', '49') OR alarm_name ~* '(harsh|rapid|sharp|sudden)' THEN 'harsh'
        WHEN alarm_type IN ('6', 'overSpeed') OR alarm_name ~* 'over ?speed|speeding' THEN 'speeding'
        ELSE 'other'
    END
$$;
COMMENT ON FUNCTION serve.alarm_class(text, text) IS
    'Driver-behaviour class of an alarm: harsh (acceleration, braking, turns), speeding, other.';
