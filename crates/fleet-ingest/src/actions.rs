//! Operator actions as the log holds them (ARCHITECTURE §4 "operator actions are events too"):
//! the API's writes are appended to `events.raw` as `source = operator` with the actor
//! (`fleet_serve::actions` checks and records them), and the parser reads each row into one event
//! that a projector applies.
//!
//! | action | raw kind | event kind | scope |
//! |---|---|---|---|
//! | device lifecycle transition | `lifecycle` | `lifecycle_transition` | `admin:fleet` |
//! | device ↔ vehicle mapping | `device_vehicle` | `device_assignment` | `write:ops` |
//! | driver assignment | `vehicle_driver` | `driver_assignment` | `write:ops` |
//! | alarm acknowledgement | `alarm_ack` | `alarm_ack` | `write:ops` |
//! | service-log entry | `service` | `service_entry` | `write:ops` |
//! | fuel spelling mapping | `fuel_mapping` | `fuel_mapping` | `write:ops` |
//! | flagged-fill review | `fuel_review` | `fuel_review` | `write:ops` |

use serde_json::Value;

use crate::parser::{Event, Outcome};

/// The raw-log source of operator actions.
pub const SOURCE: &str = "operator";

/// One kind of action: its raw kind, the event the parser makes of it, the fields it needs.
pub struct Action {
    pub kind: &'static str,
    pub event: &'static str,
    pub required: &'static [&'static str],
}

pub const ACTIONS: &[Action] = &[
    Action {
        kind: "lifecycle",
        event: "lifecycle_transition",
        required: &["imei", "to_state", "actor"],
    },
    Action {
        kind: "device_vehicle",
        event: "device_assignment",
        required: &["imei", "actor"],
    },
    Action {
        kind: "vehicle_driver",
        event: "driver_assignment",
        required: &["vehicle_number", "actor"],
    },
    Action {
        kind: "alarm_ack",
        event: "alarm_ack",
        required: &["imei", "alarm_type", "alarm_time", "actor"],
    },
    Action {
        kind: "service",
        event: "service_entry",
        required: &["vehicle_number", "serviced_at", "description", "actor"],
    },
    Action {
        kind: "fuel_mapping",
        event: "fuel_mapping",
        required: &["kind", "raw_value", "canonical", "actor"],
    },
    Action {
        kind: "fuel_review",
        event: "fuel_review",
        required: &["record_id", "action", "actor"],
    },
];

/// The parser's reading of an operator row: one event, the body as the gateway wrote it.
pub fn parse(kind: &str, body: &[u8]) -> Outcome {
    let Some(action) = ACTIONS.iter().find(|a| a.kind == kind) else {
        return Outcome::failed(format!("unknown operator action {kind:?}"));
    };
    let body: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Outcome::failed("an operator action must be a JSON object"),
        Err(e) => return Outcome::failed(format!("an operator action is not valid JSON: {e}")),
    };
    let missing: Vec<&str> = action
        .required
        .iter()
        .copied()
        .filter(|f| body.get(f).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        return Outcome::failed(format!(
            "operator action {kind} lacks {}",
            missing.join(", ")
        ));
    }
    let imei = body.get("imei").and_then(Value::as_str).map(str::to_string);
    Outcome {
        events: vec![Event {
            text: None,
            item_index: 0,
            kind: action.event,
            imei,
            event_time: None,
            body,
        }],
        error: None,
    }
}
