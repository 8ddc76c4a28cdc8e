-- A fix is never fresher than its arrival. A tracker whose clock runs ahead (or one fix stamped
-- years ahead, after which the tracker fell silent) had a negative age: the live view showed it
-- fresh, moving or parked, however long ago it last reported. The age is now counted from the
-- earlier of the fix time and its arrival; the freshness SLO counts the same way
-- (crates/fleet-cron/src/sql/slo_measure.sql). serve.fleet_units is otherwise as in 0011.

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
