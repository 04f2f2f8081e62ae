//! `GET /healthz` (the process runs) and `GET /readyz` (every assigned partition is restored).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::ApiError;
use super::AppState;

/// `200` while the process runs and serves HTTP.
pub async fn healthz(State(app): State<AppState>) -> Response {
    Json(json!({
        "status": "ok",
        "instance_id": app.instance_id(),
        "epoch": app.model().epoch(),
    }))
    .into_response()
}

/// `200` once the processor joined its group and restored every assigned partition; `503`
/// with the partitions still restoring otherwise.
pub async fn readyz(State(app): State<AppState>) -> Response {
    let r = app.model().readiness();
    if r.ready() {
        return Json(json!({
            "status": "ready",
            "instance_id": app.instance_id(),
            "partitions": r.assigned,
        }))
        .into_response();
    }
    let detail = if r.joined {
        format!(
            "partitions {:?} are restoring from the changelog",
            r.restoring
        )
    } else {
        "waiting for the first partition assignment of the consumer group".to_string()
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", detail)
        .with("instance_id", app.instance_id().to_string())
        .with("joined", r.joined)
        .with("partitions", json!(r.assigned))
        .with("restoring", json!(r.restoring))
        .retry_after(1)
        .into_response()
}
