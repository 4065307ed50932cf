//! What the report reads from a sealed form: the services, urgent grounds and priority
//! categories.
//!
//! The unit seals `{"visit": VISIT, "capture_sources": ...}` where VISIT is doorstep-core's
//! `Visit` at the seal step, its state nesting each earlier step under `prev`. The hub does not
//! depend on doorstep-core: it reads the form as JSON and looks, at any depth, for the chosen
//! services (an object whose `services` is a list of `{"service": CODE, ...}`) and the details
//! step (an object whose `details` has a `priority` list and an `urgent` ground or null). A form
//! from an older or newer unit that has them elsewhere still counts, under "unknown", rather
//! than stopping the report. Nothing else of the form (names, numbers, addresses) is read.

use serde_json::Value;

/// What one form says, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFacts {
    /// The details step was found (urgent and priority are known).
    pub known: bool,
    /// Service codes ("passport", "hk-macao-endorsement", …), one per application number.
    pub services: Vec<String>,
    /// The urgent (加急) ground's id, when urgent: the green channel.
    pub urgent: Option<String>,
    /// Every priority category that applied (computed from the birth date and declared with
    /// evidence at the visit), by the policy's ids: "elderly", "infant", "pregnancy", ….
    pub priority: Vec<String>,
}

/// How deep the search goes (the visit nests about a dozen levels).
const MAX_DEPTH: usize = 48;

fn find<'a>(v: &'a Value, depth: usize, test: &dyn Fn(&'a Value) -> bool) -> Option<&'a Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    if test(v) {
        return Some(v);
    }
    match v {
        Value::Object(map) => map.values().find_map(|c| find(c, depth + 1, test)),
        Value::Array(items) => items.iter().find_map(|c| find(c, depth + 1, test)),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(|s| s.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Reads a form's facts; an unreadable form gives `FormFacts::default()` (all unknown).
pub fn form_facts(form_json: &str) -> FormFacts {
    let Ok(form) = serde_json::from_str::<Value>(form_json) else {
        return FormFacts::default();
    };
    let visit = form.get("visit").unwrap_or(&form);
    let is_service_list = |v: &Value| {
        v.get("services").and_then(Value::as_array).is_some_and(|list| {
            !list.is_empty() && list.iter().all(|s| s.get("service").and_then(Value::as_str).is_some())
        })
    };
    let services = find(visit, 0, &is_service_list)
        .and_then(|v| v.get("services"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|s| s.get("service")?.as_str()).map(str::to_string).collect())
        .unwrap_or_default();
    let has_details = |v: &Value| v.get("details").is_some_and(|d| d.get("priority").is_some_and(Value::is_array));
    let Some(details) = find(visit, 0, &has_details).and_then(|v| v.get("details")) else {
        return FormFacts { services, ..FormFacts::default() };
    };
    let urgent = match details.get("urgent") {
        Some(Value::Object(u)) => {
            Some(u.get("ground").and_then(Value::as_str).map(str::trim).unwrap_or("unknown").to_string())
        }
        _ => None,
    };
    let mut priority = strings(details.get("priority"));
    priority.sort();
    priority.dedup();
    FormFacts { known: true, services, urgent, priority }
}
