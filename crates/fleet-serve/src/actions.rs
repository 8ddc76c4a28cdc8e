//! Operator actions: the API's writes (ARCHITECTURE §4 "operator actions are events too").
//!
//! A write never touches `domain.*` or `ops.*` directly. The handler checks the request against
//! the current state (so a wrong request gets a clear 4xx at once), appends it to `events.raw`
//! as `source = operator` with the token's subject as the actor, and waits for the worker to
//! parse and project it (it wakes on the row's NOTIFY, so this takes milliseconds). The answer
//! reports what the projection did; if no worker picks the row up within [`WAIT`] the answer is
//! 202 with the raw id, and the action still applies when a worker runs. Every write, refused or
//! not, is written to `auth.audit_log` with who, what, when and from where.
//!
//! | action | raw kind | event kind | scope |
//! |---|---|---|---|
//! | device lifecycle transition | `lifecycle` | `lifecycle_transition` | `admin:fleet` |
//! | device ↔ vehicle mapping | `device_vehicle` | `device_assignment` | `write:ops` |
//! | driver assignment | `vehicle_driver` | `driver_assignment` | `write:ops` |
//! | alarm acknowledgement | `alarm_ack` | `alarm_ack` | `write:ops` |
//! | service-log entry | `service` | `service_entry` | `write:ops` |
//! | fuel spelling mapping | `fuel_mapping` | `fuel_mapping` | `write:ops` ([`crate::fuel_actions`]) |
//! | flagged-fill review | `fuel_review` | `fuel_review` | `write:ops` ([`crate::fuel_actions`]) |

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use fleet_ingest::actions::SOURCE;
use fleet_ingest::rawlog::{self, TrustedRow};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::auth::{self, Auth, Claims};
use crate::{ApiError, error_response};

/// How long a write waits for its projection before answering 202.
pub const WAIT: Duration = Duration::from_secs(5);

/// The OpenAPI paths of the actions.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    transition,
    lifecycle_history,
    list_devices,
    set_vehicle,
    set_driver,
    ack_alarm,
    add_service,
    service_entries
))]
pub struct ActionsDoc;

#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) pool: PgPool,
}

/// The action routes, each behind the scope it needs: reads need `read:fleet`, operational
/// writes `write:ops`, lifecycle transitions `admin:fleet`.
pub fn router(pool: PgPool, auth: Auth) -> Router {
    let ctx = Ctx { pool };
    let reads = Router::new()
        .route("/api/devices", get(list_devices))
        .route("/api/devices/{imei}/lifecycle", get(lifecycle_history))
        .route("/api/vehicles/{plate}/service", get(service_entries))
        .with_state(ctx.clone());
    let ops = Router::new()
        .route("/api/devices/{imei}/vehicle", put(set_vehicle))
        .route("/api/vehicles/{plate}/driver", put(set_driver))
        .route("/api/alarms/ack", post(ack_alarm))
        .route("/api/vehicles/{plate}/service", post(add_service))
        .with_state(ctx.clone());
    let admin = Router::new()
        .route("/api/devices/{imei}/lifecycle", post(transition))
        .with_state(ctx);
    auth::require(reads, auth.clone(), auth::READ_FLEET)
        .merge(auth::require(ops, auth.clone(), auth::WRITE_OPS))
        .merge(auth::require(admin, auth, auth::ADMIN_FLEET))
}

pub(crate) fn bad_request(message: &str) -> Response {
    ApiError::bad_request(message).into_response()
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Response {
    ApiError::unavailable(
        "operator action",
        e,
        "the action cannot be recorded right now; try again shortly",
    )
    .into_response()
}

/// What every operator action's handler starts from: who calls (the guard's token claims and the
/// peer address) and the JSON body, or the 400 that says what is wrong with the body. The body is
/// the last extractor, so a handler takes its `Path` first.
pub(crate) struct Acting<T> {
    pub(crate) who: Who,
    pub(crate) req: T,
}

/// Who calls: the state, the token's claims, the peer address.
pub(crate) struct Who {
    pub(crate) ctx: Ctx,
    pub(crate) claims: Claims,
    pub(crate) from: SocketAddr,
}

impl<T: serde::de::DeserializeOwned> FromRequest<Ctx> for Acting<T> {
    type Rejection = Response;

    async fn from_request(req: Request, ctx: &Ctx) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Extension(claims) = Extension::<Claims>::from_request_parts(&mut parts, ctx)
            .await
            .map_err(IntoResponse::into_response)?;
        let ConnectInfo(from) = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, ctx)
            .await
            .map_err(IntoResponse::into_response)?;
        let Json(req) = Json::<T>::from_request(Request::from_parts(parts, body), ctx)
            .await
            .map_err(|e: JsonRejection| ApiError::bad_request(e.body_text()).into_response())?;
        Ok(Self {
            who: Who {
                ctx: ctx.clone(),
                claims,
                from,
            },
            req,
        })
    }
}

/// Who is acting, from where, doing what: what every audit line and raw row records.
pub(crate) struct Caller<'a> {
    pub(crate) pool: &'a PgPool,
    pub(crate) claims: &'a Claims,
    pub(crate) from: SocketAddr,
    pub(crate) action: &'static str,
}

impl Who {
    /// The caller of `action`.
    pub(crate) fn caller(&self, action: &'static str) -> Caller<'_> {
        Caller {
            pool: &self.ctx.pool,
            claims: &self.claims,
            from: self.from,
            action,
        }
    }
}

/// What happened to an appended action.
enum Applied {
    /// Parsed and projected.
    Done,
    /// Parsed with an error (kept in the dead letter).
    Failed(String),
    /// No worker processed it within [`WAIT`].
    Queued,
}

impl Caller<'_> {
    /// Writes the audit line of this action on `target`.
    async fn audit(&self, target: &str, outcome: &str, details: Value) {
        auth::audit(
            self.pool,
            &self.claims.sub,
            self.action,
            Some(target),
            Some(self.from),
            outcome,
            details,
        )
        .await;
    }

    /// Refuses the action (audited) with the JSON error.
    pub(crate) async fn refuse(
        &self,
        target: &str,
        status: StatusCode,
        code: &'static str,
        message: &str,
    ) -> Response {
        self.audit(target, "refused", json!({"reason": message}))
            .await;
        error_response(status, code, message)
    }

    /// The lifecycle of a registered device, or the refusal (404) or 503 to answer instead.
    async fn known_device(&self, imei: &str) -> Result<String, Box<Response>> {
        match sqlx::query_scalar("SELECT lifecycle FROM domain.devices WHERE imei = $1")
            .bind(imei)
            .fetch_optional(self.pool)
            .await
        {
            Ok(Some(lifecycle)) => Ok(lifecycle),
            Ok(None) => Err(Box::new(
                self.refuse(imei, StatusCode::NOT_FOUND, "not_found", &no_device(imei))
                    .await,
            )),
            Err(e) => Err(Box::new(unavailable(e))),
        }
    }

    /// The plate as the registry writes it, or the refusal (404, audited on `target`) or 503.
    async fn known_vehicle(&self, plate: &str, target: &str) -> Result<String, Box<Response>> {
        match vehicle_by_plate(self.pool, plate).await {
            Ok(Some(number)) => Ok(number),
            Ok(None) => Err(Box::new(
                self.refuse(
                    target,
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &no_vehicle(plate),
                )
                .await,
            )),
            Err(e) => Err(Box::new(unavailable(e))),
        }
    }

    /// Records the action (`kind`, `body` plus the actor) in the log, waits for its projection,
    /// and answers: `ok` with what `result` reads back, 409 with `conflict` when the projection
    /// did not apply it, 202 when still queued, 500 when it failed to parse (a bug: the handler
    /// checked the request). Audits every outcome.
    pub(crate) async fn apply(
        &self,
        target: &str,
        kind: &str,
        body: Value,
        ok: StatusCode,
        result: impl AsyncFnOnce(i64) -> Result<Option<Value>, sqlx::Error>,
        conflict: &str,
    ) -> Response {
        let (raw_id, applied) = match self.record(kind, body).await {
            Ok(x) => x,
            Err(e) => {
                self.audit(target, "error", json!({"error": e.to_string()}))
                    .await;
                return unavailable(e);
            }
        };
        let (status, outcome, answer) = match applied {
            Applied::Queued => (
                StatusCode::ACCEPTED,
                "queued",
                json!({"status": "queued", "raw_id": raw_id,
                       "message": "recorded; it applies as soon as a worker runs"}),
            ),
            Applied::Failed(e) => {
                tracing::error!(raw_id, error = %e, "an operator action failed to parse");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error",
                    json!({"error": {"code": "not_applied", "message": format!("the action was recorded (raw {raw_id}) but could not be applied: {e}")}}),
                )
            }
            Applied::Done => match result(raw_id).await {
                Ok(Some(v)) => (ok, "ok", v),
                Ok(None) => (
                    StatusCode::CONFLICT,
                    "refused",
                    json!({"error": {"code": "conflict", "message": conflict}}),
                ),
                Err(e) => return unavailable(e),
            },
        };
        self.audit(target, outcome, json!({"raw_id": raw_id})).await;
        (status, Json(answer)).into_response()
    }

    /// Appends the action as the caller and waits for its projection.
    async fn record(&self, kind: &str, mut body: Value) -> Result<(i64, Applied), sqlx::Error> {
        if let Value::Object(m) = &mut body {
            m.insert("actor".into(), Value::String(self.claims.sub.clone()));
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let raw_id = rawlog::append_one(
            self.pool,
            TrustedRow {
                source: SOURCE,
                kind,
                content_type: "application/json",
                verification: "token",
                meta: &json!({"actor": self.claims.sub, "remote_addr": self.from.ip().to_string()}),
                body: &bytes,
            },
        )
        .await?;
        let started = Instant::now();
        loop {
            let state: Option<(bool, Option<String>)> = sqlx::query_as(
                "SELECT parsed_at IS NOT NULL, parse_error FROM events.raw WHERE id = $1 AND source = 'operator'",
            )
            .bind(raw_id)
            .fetch_optional(self.pool)
            .await?;
            match state {
                Some((true, None)) => return Ok((raw_id, Applied::Done)),
                Some((true, Some(e))) => return Ok((raw_id, Applied::Failed(e))),
                _ if started.elapsed() >= WAIT => return Ok((raw_id, Applied::Queued)),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

fn no_device(imei: &str) -> String {
    format!("no device {imei} in the registry")
}

// ----- lifecycle -------------------------------------------------------------------------------

/// A lifecycle transition request.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TransitionRequest {
    /// The state to move to: `active`, `suspended` or `decommissioned`.
    pub to: String,
    /// Why (kept in the lifecycle history).
    pub reason: Option<String>,
}

async fn allowed_from(pool: &PgPool, state: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT domain.allowed_transitions($1)")
        .bind(state)
        .fetch_one(pool)
        .await
}

#[utoipa::path(post, path = "/api/devices/{imei}/lifecycle", tag = "actions",
    summary = "Move a device to another lifecycle state (legal transitions only; decommissioned is final)",
    params(("imei" = String, Path, description = "The device")),
    request_body = TransitionRequest,
    security(("bearer" = ["admin:fleet"])),
    responses(
        (status = 200, description = "Applied: `{imei, from, to, reason, actor, changed_at, changed_at_local}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 404, description = "No such device", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not a legal transition from the device's state (the message lists the legal ones)", body = crate::openapi::ErrorBody),
        (status = 401, description = "No valid token", body = crate::openapi::ErrorBody),
        (status = 403, description = "The token lacks admin:fleet", body = crate::openapi::ErrorBody),
    ))]
async fn transition(
    Path(imei): Path<String>,
    Acting { who, req }: Acting<TransitionRequest>,
) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("device.lifecycle");
    let current = match c.known_device(&imei).await {
        Ok(l) => l,
        Err(r) => return *r,
    };
    let allowed = match allowed_from(pool, &current).await {
        Ok(a) => a,
        Err(e) => return unavailable(e),
    };
    if !allowed.contains(&req.to) {
        let msg = if allowed.is_empty() {
            format!(
                "device {imei} is {current}, which is final: it cannot become {}",
                req.to
            )
        } else {
            format!(
                "device {imei} is {current}; it can become {}, not {:?}",
                allowed.join(" or "),
                req.to
            )
        };
        return c
            .refuse(&imei, StatusCode::CONFLICT, "illegal_transition", &msg)
            .await;
    }
    c.apply(
        &imei,
        "lifecycle",
        json!({"imei": imei, "to_state": req.to, "reason": req.reason}),
        StatusCode::OK,
        async |raw_id| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('imei', imei, 'from', from_state, 'to', to_state, 'reason', reason,
                        'actor', actor, 'changed_at', changed_at, 'changed_at_local', serve.local_time(changed_at))
                   FROM domain.device_lifecycle_events WHERE raw_id = $1 AND imei = $2",
            )
            .bind(raw_id)
            .bind(&imei)
            .fetch_optional(pool)
            .await
        },
        "the device changed state meanwhile; reload and try again",
    )
    .await
}

#[utoipa::path(get, path = "/api/devices/{imei}/lifecycle", tag = "actions",
    summary = "A device's lifecycle state, the states it may move to, and its history",
    params(("imei" = String, Path, description = "The device")),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{imei, lifecycle, allowed, history}`", body = Object),
        (status = 404, description = "No such device", body = crate::openapi::ErrorBody),
    ))]
async fn lifecycle_history(State(ctx): State<Ctx>, Path(imei): Path<String>) -> Response {
    let r: Result<Option<Value>, _> = sqlx::query_scalar(
        "SELECT jsonb_build_object('imei', d.imei, 'lifecycle', d.lifecycle,
                'allowed', to_jsonb(domain.allowed_transitions(d.lifecycle)),
                'history', (SELECT coalesce(jsonb_agg(jsonb_build_object('from', e.from_state, 'to', e.to_state, 'actor', e.actor,
                                   'reason', e.reason, 'changed_at', e.changed_at, 'changed_at_local', serve.local_time(e.changed_at))
                                   ORDER BY e.changed_at, e.id), '[]')
                              FROM domain.device_lifecycle_events e WHERE e.imei = d.imei))
           FROM domain.devices d WHERE d.imei = $1",
    )
    .bind(&imei)
    .fetch_optional(&ctx.pool)
    .await;
    match r {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => error_response(StatusCode::NOT_FOUND, "not_found", &no_device(&imei)),
        Err(e) => unavailable(e),
    }
}

#[utoipa::path(get, path = "/api/devices", tag = "actions",
    summary = "Every registered device with its lifecycle, legal next states, vehicle and last fix (and `clock_ahead_s` when its clock runs ahead of arrival beyond `fix_clock_ahead_sec`)",
    security(("bearer" = ["read:fleet"])),
    responses((status = 200, description = "`{devices: [...]}`", body = Object)))]
async fn list_devices(State(ctx): State<Ctx>) -> Response {
    let r: Result<Value, _> = sqlx::query_scalar(
        "SELECT jsonb_build_object('devices', coalesce(jsonb_agg(jsonb_build_object(
                'imei', d.imei, 'account', d.account, 'model', d.model, 'lifecycle', d.lifecycle,
                'lifecycle_changed_local', serve.local_time(d.lifecycle_changed_at),
                'allowed', to_jsonb(domain.allowed_transitions(d.lifecycle)),
                'vehicle_number', v.vehicle_number, 'device_name', sd.device_name,
                'last_fix_local', serve.local_time(l.fix_time),
                -- a clock running ahead (the latest fix later than its arrival beyond the tolerance)
                'clock_ahead_s', CASE WHEN state.fix_rank(l.fix_time, l.received_at) < l.fix_time
                                      THEN round(extract(epoch FROM l.fix_time - l.received_at))::bigint END
                ) ORDER BY d.imei), '[]'))
           FROM domain.devices d
           LEFT JOIN domain.device_assignments a ON a.imei = d.imei AND upper_inf(a.during)
           LEFT JOIN domain.vehicles v ON v.vehicle_id = a.vehicle_id
           LEFT JOIN state.devices sd ON sd.imei = d.imei
           LEFT JOIN state.live_positions l ON l.imei = d.imei",
    )
    .fetch_one(&ctx.pool)
    .await;
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => unavailable(e),
    }
}

// ----- device ↔ vehicle ------------------------------------------------------------------------

/// Puts a device on a vehicle, or takes it off (`vehicle_number: null`).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct VehicleRequest {
    /// The plate, in any spelling ("KCA 542Q", "kca-542q"); null = on no vehicle.
    pub vehicle_number: Option<String>,
}

async fn vehicle_by_plate(pool: &PgPool, plate: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT vehicle_number FROM domain.vehicles WHERE plate_key = serve.normalize_plate($1)",
    )
    .bind(plate)
    .fetch_optional(pool)
    .await
}

fn no_vehicle(plate: &str) -> String {
    format!(
        "no vehicle with plate {plate:?}: add it with `fleet import devices FILE.csv --apply` (or let the vendor device sync report it)"
    )
}

#[utoipa::path(put, path = "/api/devices/{imei}/vehicle", tag = "actions",
    summary = "Fit a device to a vehicle, or take it off (vehicle_number null); the old fitting is kept in the history",
    params(("imei" = String, Path, description = "The device")),
    request_body = VehicleRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 200, description = "`{imei, vehicle_number, since_local, assigned_by}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 404, description = "No such device or vehicle", body = crate::openapi::ErrorBody),
        (status = 409, description = "The device is decommissioned", body = crate::openapi::ErrorBody),
    ))]
async fn set_vehicle(
    Path(imei): Path<String>,
    Acting { who, req }: Acting<VehicleRequest>,
) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("device.vehicle");
    match c.known_device(&imei).await {
        Ok(l) if l == "decommissioned" => {
            return c
                .refuse(
                    &imei,
                    StatusCode::CONFLICT,
                    "decommissioned",
                    &format!("device {imei} is decommissioned and cannot be fitted to a vehicle"),
                )
                .await;
        }
        Ok(_) => {}
        Err(r) => return *r,
    }
    if let Some(plate) = &req.vehicle_number
        && let Err(r) = c.known_vehicle(plate, &imei).await
    {
        return *r;
    }
    c.apply(
        &imei,
        "device_vehicle",
        json!({"imei": imei, "vehicle_number": req.vehicle_number}),
        StatusCode::OK,
        async |_| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('imei', d.imei, 'vehicle_number', v.vehicle_number,
                        'since_local', serve.local_time(lower(a.during)), 'assigned_by', a.assigned_by)
                   FROM domain.devices d
                   LEFT JOIN domain.device_assignments a ON a.imei = d.imei AND upper_inf(a.during)
                   LEFT JOIN domain.vehicles v ON v.vehicle_id = a.vehicle_id
                  WHERE d.imei = $1",
            )
            .bind(&imei)
            .fetch_optional(pool)
            .await
        },
        "the device could not be moved",
    )
    .await
}

// ----- driver assignment -----------------------------------------------------------------------

/// Gives a vehicle a driver (by id, or by name when unambiguous), or none (both null).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DriverRequest {
    pub driver_id: Option<i64>,
    /// The driver's name, any case.
    pub driver_name: Option<String>,
}

#[utoipa::path(put, path = "/api/vehicles/{plate}/driver", tag = "actions",
    summary = "Give a vehicle a driver (by id, or by name when unambiguous), or none; the driver leaves any other vehicle",
    params(("plate" = String, Path, description = "The plate, any spelling")),
    request_body = DriverRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 200, description = "`{vehicle_number, driver_id, driver_name, since_local}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 404, description = "No such vehicle or driver", body = crate::openapi::ErrorBody),
        (status = 409, description = "Several drivers have that name", body = crate::openapi::ErrorBody),
    ))]
async fn set_driver(
    Path(plate): Path<String>,
    Acting { who, req }: Acting<DriverRequest>,
) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("vehicle.driver");
    let vehicle = match c.known_vehicle(&plate, &plate).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let driver_id: Option<i64> = match (&req.driver_id, req.driver_name.as_deref().map(str::trim)) {
        (Some(id), _) => {
            match sqlx::query_scalar::<_, i64>("SELECT driver_id FROM domain.drivers WHERE driver_id = $1 AND active")
                .bind(id)
                .fetch_optional(pool)
                .await
            {
                Ok(Some(id)) => Some(id),
                Ok(None) => return c.refuse(&vehicle, StatusCode::NOT_FOUND, "not_found",
                                          &format!("no active driver with id {id}")).await,
                Err(e) => return unavailable(e),
            }
        }
        (None, Some(name)) if !name.is_empty() => {
            match sqlx::query_scalar::<_, i64>("SELECT driver_id FROM domain.drivers WHERE lower(name) = lower($1) AND active ORDER BY driver_id")
                .bind(name)
                .fetch_all(pool)
                .await
            {
                Ok(ids) if ids.len() == 1 => Some(ids[0]),
                Ok(ids) if ids.is_empty() => return c.refuse(&vehicle, StatusCode::NOT_FOUND, "not_found",
                    &format!("no active driver named {name:?}: drivers come from `fleet import devices` (a driver column)")).await,
                Ok(ids) => return c.refuse(&vehicle, StatusCode::CONFLICT, "ambiguous",
                    &format!("{} drivers are named {name:?}; give driver_id instead (one of {ids:?})", ids.len())).await,
                Err(e) => return unavailable(e),
            }
        }
        _ => None,
    };
    c.apply(
        &vehicle,
        "vehicle_driver",
        json!({"vehicle_number": vehicle, "driver_id": driver_id}),
        StatusCode::OK,
        async |_| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('vehicle_number', v.vehicle_number, 'driver_id', dr.driver_id, 'driver_name', dr.name,
                        'since_local', serve.local_time(lower(a.during)))
                   FROM domain.vehicles v
                   LEFT JOIN domain.driver_assignments a ON a.vehicle_id = v.vehicle_id AND upper_inf(a.during)
                   LEFT JOIN domain.drivers dr ON dr.driver_id = a.driver_id
                  WHERE v.plate_key = serve.normalize_plate($1)",
            )
            .bind(&vehicle)
            .fetch_optional(pool)
            .await
        },
        "the driver could not be assigned",
    )
    .await
}

// ----- alarm acknowledgement -------------------------------------------------------------------

/// Acknowledges one alarm (its key as the history view lists it).
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AckRequest {
    pub imei: String,
    pub alarm_type: String,
    pub alarm_time: DateTime<Utc>,
    pub note: Option<String>,
}

/// Who acknowledged an alarm and when (both null when nobody has).
type AckedBy = (Option<String>, Option<DateTime<Utc>>);

#[utoipa::path(post, path = "/api/alarms/ack", tag = "actions",
    summary = "Acknowledge an alarm (once)",
    request_body = AckRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 200, description = "`{imei, alarm_type, alarm_time, acked_by, acked_at, acked_local, note}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 404, description = "No such alarm", body = crate::openapi::ErrorBody),
        (status = 409, description = "Already acknowledged (the message says by whom)", body = crate::openapi::ErrorBody),
    ))]
async fn ack_alarm(Acting { who, req }: Acting<AckRequest>) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("alarm.ack");
    let target = format!(
        "{}/{}/{}",
        req.imei,
        req.alarm_type,
        req.alarm_time.to_rfc3339()
    );
    let found: Result<Option<AckedBy>, _> = sqlx::query_as(
        "SELECT k.actor, k.acked_at FROM state.alarms a
           LEFT JOIN ops.alarm_acks k ON (k.imei, k.alarm_type, k.alarm_time) = (a.imei, a.alarm_type, a.alarm_time)
          WHERE (a.imei, a.alarm_type, a.alarm_time) = ($1, $2, $3)",
    )
    .bind(&req.imei)
    .bind(&req.alarm_type)
    .bind(req.alarm_time)
    .fetch_optional(pool)
    .await;
    match found {
        Ok(None) => {
            return c
                .refuse(
                    &target,
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!(
                        "no {} alarm of device {} at {}",
                        req.alarm_type,
                        req.imei,
                        req.alarm_time.to_rfc3339()
                    ),
                )
                .await;
        }
        Ok(Some((Some(by), Some(at)))) => {
            return c
                .refuse(
                    &target,
                    StatusCode::CONFLICT,
                    "already_acked",
                    &format!("this alarm was acknowledged by {by} at {}", at.to_rfc3339()),
                )
                .await;
        }
        Ok(Some(_)) => {}
        Err(e) => return unavailable(e),
    }
    c.apply(
        &target,
        "alarm_ack",
        json!({"imei": req.imei, "alarm_type": req.alarm_type, "alarm_time": req.alarm_time, "note": req.note}),
        StatusCode::OK,
        async |raw_id| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('imei', imei, 'alarm_type', alarm_type, 'alarm_time', alarm_time,
                        'acked_by', actor, 'acked_at', acked_at, 'acked_local', serve.local_time(acked_at), 'note', note)
                   FROM ops.alarm_acks WHERE raw_id = $1",
            )
            .bind(raw_id)
            .fetch_optional(pool)
            .await
        },
        "someone else acknowledged this alarm first",
    )
    .await
}

// ----- service log -----------------------------------------------------------------------------

/// A service-log entry for a vehicle.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ServiceRequest {
    pub serviced_at: DateTime<Utc>,
    pub description: String,
    pub odometer_km: Option<f64>,
    pub cost_kes: Option<f64>,
}

#[utoipa::path(post, path = "/api/vehicles/{plate}/service", tag = "actions",
    summary = "Add a service-log entry to a vehicle",
    params(("plate" = String, Path, description = "The plate, any spelling")),
    request_body = ServiceRequest,
    security(("bearer" = ["write:ops"])),
    responses(
        (status = 201, description = "`{id, serviced_at, serviced_local, description, odometer_km, cost_kes, actor}`", body = Object),
        (status = 202, description = "Recorded; applies as soon as a worker runs", body = Object),
        (status = 400, description = "A field is out of range", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such vehicle", body = crate::openapi::ErrorBody),
    ))]
async fn add_service(
    Path(plate): Path<String>,
    Acting { who, req }: Acting<ServiceRequest>,
) -> Response {
    let pool = &who.ctx.pool;
    let c = who.caller("vehicle.service");
    let description = req.description.trim();
    let problem = if description.is_empty() || description.len() > 2000 {
        Some("description must be 1 to 2000 characters".to_string())
    } else if req.serviced_at > Utc::now() + chrono::Duration::days(1) {
        Some("serviced_at is in the future".to_string())
    } else if req
        .odometer_km
        .is_some_and(|o| !(0.0..=10_000_000.0).contains(&o))
    {
        Some("odometer_km must be between 0 and 10,000,000".to_string())
    } else if req.cost_kes.is_some_and(|c| !(0.0..1e10).contains(&c)) {
        Some("cost_kes must be 0 or more".to_string())
    } else {
        None
    };
    if let Some(p) = problem {
        return bad_request(&p);
    }
    let vehicle = match c.known_vehicle(&plate, &plate).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    c.apply(
        &vehicle,
        "service",
        json!({
        "vehicle_number": vehicle, "serviced_at": req.serviced_at, "description": description,
        "odometer_km": req.odometer_km, "cost_kes": req.cost_kes}),
        StatusCode::CREATED,
        async |raw_id| {
            sqlx::query_scalar(
                "SELECT jsonb_build_object('id', id, 'serviced_at', serviced_at, 'serviced_local', serve.local_time(serviced_at),
                        'description', description, 'odometer_km', odometer_km, 'cost_kes', cost_kes, 'actor', actor)
                   FROM ops.service_log WHERE raw_id = $1",
            )
            .bind(raw_id)
            .fetch_optional(pool)
            .await
        },
        "the entry could not be recorded",
    )
    .await
}

#[utoipa::path(get, path = "/api/vehicles/{plate}/service", tag = "actions",
    summary = "A vehicle's service log, newest first",
    params(("plate" = String, Path, description = "The plate, any spelling")),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{vehicle_number, entries}`", body = Object),
        (status = 404, description = "No such vehicle", body = crate::openapi::ErrorBody),
    ))]
async fn service_entries(State(ctx): State<Ctx>, Path(plate): Path<String>) -> Response {
    let r: Result<Option<Value>, _> = sqlx::query_scalar(
        "SELECT jsonb_build_object('vehicle_number', v.vehicle_number, 'entries',
                (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'serviced_at', s.serviced_at,
                        'serviced_local', serve.local_time(s.serviced_at), 'description', s.description,
                        'odometer_km', s.odometer_km, 'cost_kes', s.cost_kes, 'actor', s.actor)
                        ORDER BY s.serviced_at DESC, s.id DESC), '[]')
                   FROM ops.service_log s WHERE s.vehicle_id = v.vehicle_id))
           FROM domain.vehicles v WHERE v.plate_key = serve.normalize_plate($1)",
    )
    .bind(&plate)
    .fetch_optional(&ctx.pool)
    .await;
    match r {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => error_response(StatusCode::NOT_FOUND, "not_found", &no_vehicle(&plate)),
        Err(e) => unavailable(e),
    }
}
