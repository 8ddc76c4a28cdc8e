CREATE OR REPLACE FUNCTION events.raw_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('fleet.partition_move', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'events.raw is append-only: rows are never deleted (retention drops whole partitions)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.received_at, NEW.source, NEW.kind, NEW.content_type, NEW.body, NEW.remote_addr,
        NEW.verified, NEW.verification, NEW.meta)
       IS DISTINCT FROM
       (OLD.id, OLD.received_at, OLD.source, OLD.kind, OLD.content_type, OLD.body, OLD.remote_addr,
        OLD.verified, OLD.verification, OLD.meta) THEN
        RAISE EXCEPTION 'events.raw is append-only: only parsed_at, parser_version and parse_error may change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER raw_guard BEFORE UPDATE OR DELETE ON events.raw
    FOR EACH ROW EXECUTE FUNCTION events.raw_guard();
