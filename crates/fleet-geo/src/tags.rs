//! Reading OSM road tags the way routers do: which direction a way may be driven, and its speed
//! limit in km/h from `maxspeed` as mappers write it.
//!
//! **maxspeed**: a number (km/h), with `km/h`/`kmh`/`kph`, `mph` or `knots`; several values
//! (`50;30`) → the first; `walk` → 7; `none`, `signals`, `variable` → no figure (the road class's
//! speed is used); zone values `XX:zone30`, `XX:zone:30` → 30; and implicit values
//! `<country>:<context>` from the table below (the legal defaults as the OpenStreetMap wiki's
//! "Default speed limits" page lists them for the countries the platform serves first, and the
//! common European ones), else the generic row. A value that reads as none of these gives no
//! figure — never a guess.
//!
//! | context | KE | UG | TZ | RW | GB (mph) | DE | FR | IT | ES | generic |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | urban | 50 | 50 | 50 | 40 | 30 | 50 | 50 | 50 | 50 | 50 |
//! | rural | 100 | 80 | 110 | 80 | 60 | 100 | 80 | 90 | 90 | 80 |
//! | trunk / dual carriageway | 110 | 100 | 110 | 80 | 70 | 100 | 110 | 110 | 100 | 100 |
//! | motorway | 110 | 100 | 110 | 80 | 70 | 130 | 130 | 130 | 120 | 110 |
//! | living_street | 20 | 20 | 20 | 20 | 20 | 7 | 20 | 20 | 20 | 20 |
//!
//! **Direction**: `oneway=yes|true|1` forward; `oneway=-1|reverse` against the drawing;
//! `oneway=no|false|0` both ways (even on a roundabout); otherwise `junction=roundabout` or
//! `highway=motorway` (and `motorway_link`) imply forward, as OSM defines them.

use std::collections::HashMap;

/// Which way a road may be driven, relative to the order of its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    Forward,
    Backward,
}

/// The direction of a way from its tags.
pub fn direction(tags: &HashMap<&str, &str>) -> Direction {
    match tags
        .get("oneway")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("yes" | "true" | "1") => return Direction::Forward,
        Some("-1" | "reverse") => return Direction::Backward,
        Some("no" | "false" | "0") => return Direction::Both,
        _ => {}
    }
    let roundabout = tags
        .get("junction")
        .is_some_and(|j| *j == "roundabout" || *j == "circular");
    let motorway = tags
        .get("highway")
        .is_some_and(|h| *h == "motorway" || *h == "motorway_link");
    if roundabout || motorway {
        Direction::Forward
    } else {
        Direction::Both
    }
}

/// The speed limit in km/h a `maxspeed` value means, if it says one.
pub fn maxspeed_kmh(value: &str) -> Option<f64> {
    let v = value.split(';').next()?.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    match v.as_str() {
        "walk" => return Some(7.0),
        "none" | "signals" | "variable" | "unposted" => return None,
        _ => {}
    }
    if let Some((country, context)) = v.split_once(':')
        && country.len() == 2
        && country.chars().all(|c| c.is_ascii_alphabetic())
    {
        return implicit(country, context);
    }
    let number_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let n: f64 = v[..number_end].parse().ok()?;
    let unit = v[number_end..].trim();
    let kmh = match unit {
        "" | "km/h" | "kmh" | "kph" | "km" => n,
        "mph" => n * 1.609_344,
        "knots" | "kn" => n * 1.852,
        _ => return None,
    };
    (1.0..=300.0).contains(&kmh).then_some(kmh)
}

/// `<country>:<context>` values.
fn implicit(country: &str, context: &str) -> Option<f64> {
    let context = context.replace(['-', ' '], "_");
    // zone values carry their number
    if let Some(n) = context
        .strip_prefix("zone")
        .map(|r| r.trim_start_matches([':', '_']))
        .and_then(|r| r.parse::<f64>().ok())
    {
        return Some(n);
    }
    let column = match context.as_str() {
        "urban" => 0,
        "rural" => 1,
        "trunk" | "dual_carriageway" | "rural_dual_carriageway" | "expressway" => 2,
        "motorway" => 3,
        "living_street" => 4,
        _ => return None,
    };
    let (row, mph): ([f64; 5], bool) = match country {
        "ke" => ([50.0, 100.0, 110.0, 110.0, 20.0], false),
        "ug" => ([50.0, 80.0, 100.0, 100.0, 20.0], false),
        "tz" => ([50.0, 110.0, 110.0, 110.0, 20.0], false),
        "rw" => ([40.0, 80.0, 80.0, 80.0, 20.0], false),
        "gb" => ([30.0, 60.0, 70.0, 70.0, 20.0], true),
        "de" => ([50.0, 100.0, 100.0, 130.0, 7.0], false),
        "fr" => ([50.0, 80.0, 110.0, 130.0, 20.0], false),
        "it" => ([50.0, 90.0, 110.0, 130.0, 20.0], false),
        "es" => ([50.0, 90.0, 100.0, 120.0, 20.0], false),
        _ => ([50.0, 80.0, 100.0, 110.0, 20.0], false),
    };
    let v = row[column];
    Some(if mph && column != 4 { v * 1.609_344 } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags<'a>(pairs: &[(&'a str, &'a str)]) -> HashMap<&'a str, &'a str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn speed_limits_as_mappers_write_them() {
        let r = |v: &str| maxspeed_kmh(v).map(|k| (k * 10.0).round() / 10.0);
        assert_eq!(r("50"), Some(50.0));
        assert_eq!(r("50 km/h"), Some(50.0));
        assert_eq!(r("80kmh"), Some(80.0));
        assert_eq!(r("30 mph"), Some(48.3));
        assert_eq!(r("10 knots"), Some(18.5));
        assert_eq!(r("50;30"), Some(50.0));
        assert_eq!(r("KE:urban"), Some(50.0));
        assert_eq!(r("KE:rural"), Some(100.0));
        assert_eq!(r("UG:rural"), Some(80.0));
        assert_eq!(r("GB:motorway"), Some(112.7));
        assert_eq!(r("DE:zone30"), Some(30.0));
        assert_eq!(r("DE:zone:20"), Some(20.0));
        assert_eq!(r("XX:urban"), Some(50.0));
        assert_eq!(r("walk"), Some(7.0));
        assert_eq!(r("none"), None);
        assert_eq!(r("signals"), None);
        assert_eq!(r("KE:nonsense"), None);
        assert_eq!(r("fast"), None);
        assert_eq!(r("50 furlongs"), None);
        assert_eq!(r("0"), None);
    }

    #[test]
    fn directions_from_oneway_roundabouts_and_motorways() {
        assert_eq!(
            direction(&tags(&[("highway", "residential")])),
            Direction::Both
        );
        assert_eq!(direction(&tags(&[("oneway", "yes")])), Direction::Forward);
        assert_eq!(direction(&tags(&[("oneway", "-1")])), Direction::Backward);
        assert_eq!(
            direction(&tags(&[("junction", "roundabout")])),
            Direction::Forward
        );
        assert_eq!(
            direction(&tags(&[("junction", "roundabout"), ("oneway", "no")])),
            Direction::Both
        );
        assert_eq!(
            direction(&tags(&[("highway", "motorway")])),
            Direction::Forward
        );
        assert_eq!(
            direction(&tags(&[("highway", "motorway"), ("oneway", "-1")])),
            Direction::Backward
        );
    }
}
