//! The fuel log's operator actions (issue 15), events like every write ([`crate::actions`]):
//!
//! - `POST /api/fuel/mappings`: name a spelling (a department, a plate, a fuel type). Department
//!   spellings are grouped again at once (`fuel.department_spellings`); records with the plate or
//!   fuel type are normalised again by the projector.
//! - `POST /api/fuel/fills/{record_id}/review`: approve (it counts, its flags kept), void (it
//!   stays listed, marked, and leaves the totals and efficiency figures) or reopen a fill.
//!
//! Confirming a suggested department is a mapping of the spelling to the suggestion; rejecting
//! it is a mapping of the spelling to its own name.

use crate::auth::{self, Auth};
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actions::{Acting, Ctx, unavailable};

/// The OpenAPI paths of the fuel actions.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add_mapping, review_fill))]
pub struct FuelActionsDoc;

/// The fuel actions' routes, behind `write:ops`.
pub fn router(pool: sqlx::PgPool, auth: Auth) -> Router {
    let ops = Router::new()
        .route("/api/fuel/mappings", post(add_mapping))
        .route("/api/fuel/fills/{record_id}/review", post(review_fill))
        .with_state(Ctx { pool });
    auth::require(ops, auth, auth::WRITE_OPS)
}

/// Names a spelling of the fuel feed.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MappingRequest {
    /// `department`, `plate` or `fuel_type`.
    pub kind: String,
    /// The spelling as the feed writes it (case, spaces and punctuation do not matter).
    pub raw_value: String,
    /// What it means: a department name, a plate, or a fuel type (`diesel`, `petrol`,
    /// `kerosene`, `lpg`, `adblue`, in any spelling those are recognised in).
    pub canonical: String,
}

#[utoipa::path(post, path = "/api/fuel/mappings", tag = "fuel",
    summary = "Name a spelling of the fuel feed: a department (confirm or reject a suggestion), a plate or a fuel type; the records it names follow at once",
    request_body = MappingRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 200, description = "`{mapping: {kind, raw_value, canonical}, records, spellings}`: the records the spelling now names and, for a department, its spellings as now decided", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 400, description = "A field is missing or out of range", body = crate::openapi::ErrorBody),
        (status = 422, description = "The canonical value is not a plate or a fuel type", body = crate::openapi::ErrorBody),
    ))]
async fn add_mapping(Acting { who, req }: Acting<MappingRequest>) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("fuel.mapping");
    let kind = req.kind.trim();
    let key = fleet_core::fuel::departments::lookup_key(&req.raw_value);
    let canonical = req
        .canonical
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let problem = if !["department", "plate", "fuel_type"].contains(&kind) {
        Some("kind must be department, plate or fuel_type")
    } else if key.is_empty() {
        Some("raw_value must have letters or digits: the spelling as the feed writes it")
    } else if canonical.is_empty() || canonical.chars().count() > 100 {
        Some("canonical must be 1 to 100 characters")
    } else {
        None
    };
    if let Some(p) = problem {
        return c
            .refuse(&key, StatusCode::BAD_REQUEST, "bad_request", p)
            .await;
    }
    // What the canonical value of a plate or fuel type must be, as the normalisers read it.
    let checked: Result<Option<String>, sqlx::Error> = match kind {
        "fuel_type" => sqlx::query_scalar(
            "SELECT c FROM (SELECT fuel.canon_fuel_type($1) AS c) x WHERE c IN ('diesel', 'petrol', 'kerosene', 'lpg', 'adblue')",
        )
        .bind(&canonical)
        .fetch_optional(pool)
        .await,
        "plate" => sqlx::query_scalar("SELECT $1 WHERE serve.normalize_plate($1) IS NOT NULL")
            .bind(&canonical)
            .fetch_optional(pool)
            .await,
        _ => Ok(Some(canonical.clone())),
    };
    let canonical = match checked {
        Ok(Some(v)) => v,
        Ok(None) => {
            let why = if kind == "plate" {
                format!("{canonical:?} is not a number plate")
            } else {
                format!("{canonical:?} is not a fuel type: diesel, petrol, kerosene, lpg or adblue")
            };
            return c
                .refuse(&key, StatusCode::UNPROCESSABLE_ENTITY, "not_a_value", &why)
                .await;
        }
        Err(e) => return unavailable(e),
    };
    let kind = kind.to_string();
    c.apply(
        &format!("{kind}:{key}"),
        "fuel_mapping",
        json!({"kind": kind, "raw_value": req.raw_value.trim(), "canonical": canonical}),
        StatusCode::OK,
        async |raw_id| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object(
                        'mapping', jsonb_build_object('kind', m.kind, 'raw_value', m.raw_value, 'canonical', m.canonical,
                                                      'actor', m.actor),
                        'records', (SELECT count(*) FROM fuel.records r WHERE r.deleted_at IS NULL AND fuel.lookup_key(
                                        CASE m.kind WHEN 'plate' THEN r.car WHEN 'fuel_type' THEN r.fuel_type_spelling
                                                    ELSE r.department_spelling END) = m.raw_value),
                        'spellings', (SELECT coalesce(jsonb_agg(jsonb_build_object('spelling', d.spelling, 'records', d.records,
                                             'canonical', d.canonical, 'decided_by', d.decided_by) ORDER BY d.spelling), '[]')
                                        FROM fuel.department_spellings d
                                       WHERE m.kind = 'department' AND fuel.lookup_key(d.spelling) = m.raw_value))
                   FROM fuel.mappings m WHERE m.raw_id = $1",
            )
            .bind(raw_id)
            .fetch_optional(pool)
            .await
        },
        "a later mapping of this spelling was recorded meanwhile; reload and try again",
    )
    .await
}

/// A review of a flagged fill.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReviewRequest {
    /// `approve` (it counts, its flags kept), `void` (it leaves the totals and efficiency
    /// figures, listed and marked) or `reopen`.
    pub action: String,
    /// Why; required to approve or void.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/fuel/fills/{record_id}/review", tag = "fuel",
    summary = "Approve, void or reopen a fuel fill (a voided fill stays listed and leaves the totals; an approved one counts with its flags)",
    params(("record_id" = String, Path, description = "The fill's record id in the feed")),
    request_body = ReviewRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 200, description = "`{record_id, review, reason, reviewed_by, reviewed_local}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 400, description = "Not approve, void or reopen; or no reason", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such usable fill", body = crate::openapi::ErrorBody),
        (status = 409, description = "Reviewed again meanwhile", body = crate::openapi::ErrorBody),
    ))]
async fn review_fill(
    Path(record_id): Path<String>,
    Acting { who, req }: Acting<ReviewRequest>,
) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("fuel.review");
    let action = req.action.trim().to_lowercase();
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let problem = if !["approve", "void", "reopen"].contains(&action.as_str()) {
        Some("action must be approve, void or reopen")
    } else if action != "reopen" && reason.is_none() {
        Some("say why: a reason is required to approve or void a fill")
    } else if reason.is_some_and(|r| r.chars().count() > 2000) {
        Some("reason must be at most 2000 characters")
    } else {
        None
    };
    if let Some(p) = problem {
        return c
            .refuse(&record_id, StatusCode::BAD_REQUEST, "bad_request", p)
            .await;
    }
    match sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM fuel.v_fills WHERE record_id = $1)",
    )
    .bind(&record_id)
    .fetch_one(pool)
    .await
    {
        Ok(true) => {}
        Ok(false) => {
            let why = format!(
                "no usable fill {record_id:?}: a record that cannot be read is not reviewed but fixed in the feed"
            );
            return c
                .refuse(&record_id, StatusCode::NOT_FOUND, "not_found", &why)
                .await;
        }
        Err(e) => return unavailable(e),
    }
    c.apply(
        &record_id,
        "fuel_review",
        json!({"record_id": record_id, "action": action, "reason": reason}),
        StatusCode::OK,
        async |raw_id| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('record_id', record_id, 'review', state, 'reason', reason, 'reviewed_by', actor,
                        'reviewed_local', serve.local_time(reviewed_at))
                   FROM fuel.fill_reviews WHERE record_id = $1 AND raw_id = $2",
            )
            .bind(&record_id)
            .bind(raw_id)
            .fetch_optional(pool)
            .await
        },
        "the fill was reviewed again meanwhile; reload and try again",
    )
    .await
}
