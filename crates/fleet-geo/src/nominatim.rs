//! Reverse geocoding by a Nominatim server (`FLEET_NOMINATIM_URL`), beside the offline
//! geocoder: every shown position gets its address from the loaded extract at once, and the
//! geocoder then asks Nominatim for the positions that matter most first (fuel fills, stops,
//! trip ends and starts, alarms, then live positions), newest first, at most one request a
//! second (the public server's usage policy, and kind to a self-hosted one), each position
//! once: the answer replaces the offline one in `state.geocoded_positions` (provider
//! `nominatim`) and survives a reload of the extract. A failing server is retried after a
//! pause that doubles (30 s up to 15 min) and never holds up anything else: ingest does not
//! wait for the geocoder, and the offline addresses stay meanwhile.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Point;

/// The least time between two requests.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A Nominatim server and the pace it is asked at.
pub struct Nominatim {
    base: String,
    http: reqwest::Client,
    last: Option<Instant>,
    /// After a failure, no request before this.
    paused_until: Option<Instant>,
    pause: Duration,
}

/// A failed request: the server is unreachable, slow, or answered something that is not a
/// reverse-geocoding answer.
#[derive(Debug, thiserror::Error)]
#[error("Nominatim at {url}: {why}")]
pub struct NominatimError {
    pub url: String,
    pub why: String,
}

/// What one request found.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The address line and its parts.
    Found(String, Value),
    /// The server has nothing there (`"Unable to geocode"`): the offline address stays.
    Nothing,
}

impl Nominatim {
    /// A client of the server at `base` (e.g. `https://nominatim.example.org`).
    pub fn new(base: &str) -> Self {
        let http = fleet_core::http::client(Duration::from_secs(10))
            .user_agent(concat!(
                "fleet-platform/",
                env!("CARGO_PKG_VERSION"),
                " (reverse geocoding for a fleet's dashboards)"
            ))
            .build()
            .unwrap_or_default();
        Self {
            base: base.trim_end_matches('/').to_string(),
            http,
            last: None,
            paused_until: None,
            pause: Duration::from_secs(30),
        }
    }

    /// Whether a failure has paused the asking.
    pub fn paused(&self) -> bool {
        self.paused_until.is_some_and(|t| Instant::now() < t)
    }

    /// Asks for the address at `p`, waiting first as long as the pace needs.
    pub async fn reverse(&mut self, p: Point) -> Result<Answer, NominatimError> {
        if let Some(last) = self.last {
            let since = last.elapsed();
            if since < MIN_INTERVAL {
                tokio::time::sleep(MIN_INTERVAL - since).await;
            }
        }
        self.last = Some(Instant::now());
        let url = format!("{}/reverse", self.base);
        let query = format!(
            "{url}?format=jsonv2&lat={:.6}&lon={:.6}&zoom=18&addressdetails=1",
            p.lat, p.lng
        );
        let fail = |why: String| NominatimError {
            url: url.clone(),
            why,
        };
        let res = self
            .http
            .get(&query)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = res.status();
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        let body: Value = res
            .json()
            .await
            .map_err(|e| fail(format!("not JSON: {e}")))?;
        parse(&body).ok_or_else(|| fail("neither an address nor an error in the answer".into()))
    }

    fn failed(&mut self) {
        self.paused_until = Some(Instant::now() + self.pause);
        self.pause = (self.pause * 2).min(Duration::from_secs(900));
    }

    fn succeeded(&mut self) {
        self.paused_until = None;
        self.pause = Duration::from_secs(30);
    }
}

/// A jsonv2 reverse answer as our address line and parts (the offline geocoder's keys:
/// `housenumber`, `street`, `suburb`, `town`, `region`), or [`Answer::Nothing`].
pub fn parse(body: &Value) -> Option<Answer> {
    if body.get("error").is_some() {
        return Some(Answer::Nothing);
    }
    let a = body.get("address")?.as_object()?;
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| a.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let housenumber = first(&["house_number"]);
    let street = first(&["road", "pedestrian", "footway", "path", "square"]);
    let suburb = first(&[
        "suburb",
        "neighbourhood",
        "quarter",
        "city_district",
        "hamlet",
    ]);
    let town = first(&["city", "town", "village", "municipality"]);
    let region = first(&["county", "state_district", "state"]);
    let distinct = |x: &Option<String>, others: &[&Option<String>]| {
        x.clone()
            .filter(|v| others.iter().all(|o| o.as_deref() != Some(v)))
    };
    let line: Vec<String> = [
        street.as_ref().map(|s| match &housenumber {
            Some(h) => format!("{h} {s}"),
            None => s.clone(),
        }),
        distinct(&suburb, &[&town, &street]),
        town.clone(),
        distinct(&region, &[&town, &suburb]),
    ]
    .into_iter()
    .flatten()
    .collect();
    let line = if line.is_empty() {
        body.get("display_name")?.as_str()?.to_string()
    } else {
        line.join(", ")
    };
    let mut parts = json!({
        "housenumber": housenumber, "street": street, "suburb": suburb, "town": town, "region": region,
        "postcode": first(&["postcode"]), "country": first(&["country"]),
        "display_name": body.get("display_name"), "source": "nominatim",
    });
    if let Some(m) = parts.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    Some(Answer::Found(line, parts))
}

/// Asks for up to `n` shown positions (since `since`) that Nominatim has not answered, most
/// important first, at the pace; writes each answer as it comes. Returns how many were asked;
/// a failure pauses the asking (see the module).
pub async fn pass(
    pool: &PgPool,
    server: &mut Nominatim,
    since: chrono::DateTime<chrono::Utc>,
    n: i64,
) -> Result<usize, sqlx::Error> {
    if server.paused() {
        return Ok(0);
    }
    let todo: Vec<(i32, i32)> = sqlx::query_as(include_str!("sql/nominatim_todo.sql"))
        .bind(since)
        .bind(n)
        .fetch_all(pool)
        .await?;
    let mut asked = 0;
    for (lat_e5, lng_e5) in todo {
        let p = Point {
            lat: f64::from(lat_e5) / 1e5,
            lng: f64::from(lng_e5) / 1e5,
        };
        asked += 1;
        let answer = match server.reverse(p).await {
            Ok(a) => {
                server.succeeded();
                metrics::counter!("fleet_nominatim_requests_total", "outcome" => "ok").increment(1);
                a
            }
            Err(e) => {
                server.failed();
                metrics::counter!("fleet_nominatim_requests_total", "outcome" => "error")
                    .increment(1);
                tracing::warn!(error = %e, "geocoder: Nominatim failed; the offline addresses stay, asking again later");
                break;
            }
        };
        // an empty answer keeps the offline address (or none), marked as asked
        let (address, parts) = match answer {
            Answer::Found(line, parts) => (Some(line), parts),
            Answer::Nothing => (None, json!({"source": "nominatim", "nothing": true})),
        };
        sqlx::query(
            "INSERT INTO state.geocoded_positions AS g (lat_e5, lng_e5, address, provider, parts)
             VALUES ($1, $2, $3, 'nominatim', $4)
             ON CONFLICT (lat_e5, lng_e5) DO UPDATE
                SET address = coalesce(excluded.address, g.address), provider = 'nominatim',
                    parts = CASE WHEN excluded.address IS NULL THEN g.parts || excluded.parts ELSE excluded.parts END,
                    geocoded_at = now()",
        )
        .bind(lat_e5)
        .bind(lng_e5)
        .bind(address)
        .bind(parts)
        .execute(pool)
        .await?;
    }
    Ok(asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_becomes_our_line_and_parts() {
        let body = json!({
            "display_name": "12, Moi Avenue, Central Business District, Nairobi, Nairobi County, Kenya",
            "address": {"house_number": "12", "road": "Moi Avenue", "suburb": "Central Business District",
                        "city": "Nairobi", "county": "Nairobi County", "country": "Kenya"}});
        let Some(Answer::Found(line, parts)) = parse(&body) else {
            panic!("an address")
        };
        assert_eq!(
            line,
            "12 Moi Avenue, Central Business District, Nairobi, Nairobi County"
        );
        assert_eq!(parts["street"], "Moi Avenue");
        assert_eq!(parts["source"], "nominatim");
        // a region named like its town is said once; a village is a town
        let body = json!({"display_name": "x", "address": {"road": "A2", "village": "Kinangop", "state": "Kinangop"}});
        assert_eq!(
            parse(&body),
            Some(Answer::Found(
                "A2, Kinangop".into(),
                json!({"street": "A2", "town": "Kinangop", "region": "Kinangop", "display_name": "x", "source": "nominatim"})
            ))
        );
        assert_eq!(
            parse(&json!({"error": "Unable to geocode"})),
            Some(Answer::Nothing)
        );
        assert_eq!(parse(&json!({"display_name": "x"})), None);
        // nothing but a name: the name
        assert!(
            matches!(parse(&json!({"display_name": "Lake Victoria", "address": {"water": "Lake Victoria"}})), Some(Answer::Found(l, _)) if l == "Lake Victoria")
        );
    }
}
