CREATE OR REPLACE VIEW events.v_dead_letter AS
SELECT id, received_at, source, kind, content_type, parser_version, parse_error,
       length(body) AS body_bytes,
       encode(substring(body FROM 1 FOR 500), 'escape') AS body_head
  FROM events.raw
 WHERE parse_error IS NOT NULL;
COMMENT ON VIEW events.v_dead_letter IS 'Raw rows the parser could not read, with the error; they are retried when the parser version changes.';
