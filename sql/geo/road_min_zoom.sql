-- Which road classes a zoom level shows: main roads from afar, every street up close.
CREATE OR REPLACE FUNCTION geo.road_min_zoom(highway text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN highway IN ('motorway', 'trunk', 'motorway_link', 'trunk_link') THEN 5
        WHEN highway IN ('primary', 'primary_link') THEN 8
        WHEN highway IN ('secondary', 'secondary_link', 'tertiary', 'tertiary_link') THEN 10
        ELSE 13 END
$$;
