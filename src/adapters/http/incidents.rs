//! `GET /incidents/{id}`, `GET /incidents/{id}/history` and `GET /incidents`.

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ApiError;
use super::peers::{encode_segment, Forwarded, FORWARDED_HEADER, SERVED_BY_HEADER};
use super::query::{incident_id, Params};
use super::AppState;
use crate::core::model::IncidentId;
use crate::runtime::read_model::{EventFilter, ListQuery};

/// Shares the stored JSON of an update with a response body, without copying it.
struct SharedJson(std::sync::Arc<str>);

impl AsRef<[u8]> for SharedJson {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A `200` JSON answer, marked with the instance that served it.
fn json_response(body: Bytes, served_by: &str) -> Response {
    let mut r = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from(body),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(served_by) {
        r.headers_mut().insert(SERVED_BY_HEADER, v);
    }
    r
}

fn path_id(path: Result<Path<String>, PathRejection>) -> Result<IncidentId, ApiError> {
    match path {
        Ok(Path(raw)) => incident_id("incident_id", &raw),
        Err(e) => Err(ApiError::bad_request(format!(
            "incident id in the path: {e}"
        ))),
    }
}

/// Which representation of an incident a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Latest,
    History,
}

/// `GET /incidents/{id}`: the latest update of the incident (its current view and version),
/// from here or from the peer that holds it.
pub async fn get_incident(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    lookup(app, path, headers, uri, Part::Latest).await
}

/// `GET /incidents/{id}/history`: the last versions of the incident (version, changes,
/// caused_by, merge), oldest first.
pub async fn get_history(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    lookup(app, path, headers, uri, Part::History).await
}

async fn lookup(
    app: AppState,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    part: Part,
) -> Response {
    match lookup_inner(app, path, headers, uri, part).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn lookup_inner(
    app: AppState,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    part: Part,
) -> Result<Response, ApiError> {
    Params::parse(&uri, &[])?;
    let id = path_id(path)?;
    let me = app.instance_id();
    match part {
        Part::Latest => {
            if let Some(l) = app.model().get(&id) {
                return Ok(json_response(
                    Bytes::from_owner(SharedJson(l.json.clone())),
                    me,
                ));
            }
        }
        Part::History => {
            if let Some(h) = app.model().history(&id) {
                let body = serde_json::to_vec(&h).unwrap_or_default();
                return Ok(json_response(Bytes::from(body), me));
            }
        }
    }
    let readiness = app.model().readiness();
    let forwarded = headers.contains_key(FORWARDED_HEADER);
    let mut asked = Vec::new();
    if !forwarded {
        let peers = app.peers().others(me);
        if !peers.is_empty() {
            let suffix = match part {
                Part::Latest => "",
                Part::History => "/history",
            };
            let path = format!("/incidents/{}{suffix}", encode_segment(id.as_str()));
            match app.forwarder().forward(peers, &path).await {
                Forwarded::Hit(hit) => return Ok(json_response(hit.body, &hit.instance_id)),
                Forwarded::Miss(outcomes) => asked = outcomes,
            }
        }
    }
    let peers = serde_json::to_value(&asked).unwrap_or(Value::Null);
    let peer_restoring: Vec<&str> = asked
        .iter()
        .filter(|o| o.outcome == "restoring")
        .map(|o| o.instance_id.as_str())
        .collect();
    let err = if readiness.restoring.is_empty() && peer_restoring.is_empty() {
        let detail = if forwarded {
            format!("incident {id} is not held by instance {me}")
        } else if asked.is_empty() {
            format!("incident {id} is not held by instance {me}, and no peer is known")
        } else {
            format!(
                "incident {id} is held neither by instance {me} nor by any of the {} peers asked",
                asked.len()
            )
        };
        ApiError::not_found(detail)
    } else {
        let mut where_ = Vec::new();
        if !readiness.restoring.is_empty() {
            where_.push(format!(
                "partitions {:?} of instance {me}",
                readiness.restoring
            ));
        }
        if !peer_restoring.is_empty() {
            where_.push(format!("partitions of instances {peer_restoring:?}"));
        }
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "restoring",
            format!(
                "incident {id} was not found, but {} are still restoring; retry",
                where_.join(" and ")
            ),
        )
        .retry_after(1)
    };
    Err(err
        .with("incident_id", id.as_str().to_string())
        .with("instance_id", me.to_string())
        .with("partitions", json!(readiness.assigned))
        .with("restoring", json!(readiness.restoring))
        .with("forwarded", forwarded)
        .with("peers", peers))
}

/// `GET /incidents?country=&grade=&since=&after=&limit=`: the standing incidents held here,
/// sorted by id, and which partitions they cover.
pub async fn list_incidents(State(app): State<AppState>, uri: Uri) -> Response {
    match list_inner(&app, &uri) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn list_inner(app: &AppState, uri: &Uri) -> Result<Response, ApiError> {
    let p = Params::parse(uri, &["country", "grade", "since", "after", "limit"])?;
    let q = ListQuery {
        filter: EventFilter {
            country: p.country("country")?,
            grade: p.grade("grade")?,
            incident: None,
        },
        since: p.timestamp("since")?,
        after: p.incident("after")?,
        limit: p.limit("limit")?,
    };
    let listing = app.model().list(&q);
    let me = app.instance_id();
    let peers: Vec<Value> = app
        .peers()
        .others(me)
        .into_iter()
        .map(|p| json!({"instance_id": p.instance_id, "url": p.url, "partitions": p.partitions}))
        .collect();
    let head = json!({
        "instance_id": me,
        "partitions": listing.partitions,
        "restoring": listing.restoring,
        "count": listing.incidents.len(),
        "next_after": listing.next_after.as_ref().map(IncidentId::as_str),
        "peers": peers,
    });
    // The head's fields, then the stored update JSON spliced in as it is.
    let mut body = serde_json::to_vec(&head).unwrap_or_default();
    body.pop(); // the closing brace
    body.extend_from_slice(b",\"incidents\":[");
    for (i, l) in listing.incidents.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(l.json.as_bytes());
    }
    body.extend_from_slice(b"]}");
    Ok(json_response(Bytes::from(body), me))
}
