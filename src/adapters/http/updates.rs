//! `GET /updates`: server-sent events of the updates this instance publishes.
//!
//! - `event: update`, `id: <epoch>-<seq>`, `data:` the update as published (JSON).
//! - `event: revoked`, `id: <epoch>-<seq>`, `data: {"partitions": [..]}`: those partitions'
//!   incidents are no longer served here.
//! - `event: snapshot`, `id: <epoch>-<seq>`, `data: {"reason", "partitions", "updates"}`: the
//!   latest update of every incident held here (filtered), as of event `<seq>`.
//!
//! A stream starts with a snapshot, unless `Last-Event-ID` (header, or `last_event_id`
//! parameter) names an event of this process run still in the ring buffer: then it starts
//! with exactly the events after that one. A subscriber that falls behind the live broadcast
//! is resumed the same way (ring buffer if it still reaches, else a snapshot), never with a
//! silent gap.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::error::ApiError;
use super::query::Params;
use super::AppState;
use crate::runtime::read_model::{
    Event, EventFilter, EventKind, ReadModel, SnapshotReason, Start, Subscription,
};

struct Stream {
    model: Arc<ReadModel>,
    filter: EventFilter,
    queue: VecDeque<SseEvent>,
    seq: u64,
    receiver: broadcast::Receiver<Arc<Event>>,
    shutdown: watch::Receiver<bool>,
}

impl Stream {
    fn start(&mut self, sub: Subscription) {
        match sub.start {
            Start::Snapshot(s) => {
                let head = json!({
                    "reason": s.reason,
                    "partitions": s.partitions,
                    "count": s.updates.len(),
                });
                let mut data = serde_json::to_string(&head).unwrap_or_default();
                data.pop();
                data.push_str(",\"updates\":[");
                for (i, l) in s.updates.iter().enumerate() {
                    if i > 0 {
                        data.push(',');
                    }
                    data.push_str(&l.json);
                }
                data.push_str("]}");
                self.queue.push_back(
                    SseEvent::default()
                        .event("snapshot")
                        .id(self.model.event_id(s.seq))
                        .data(data),
                );
            }
            Start::Replay(events) => {
                for e in &events {
                    let rendered = render(&self.model, e);
                    self.queue.push_back(rendered);
                }
            }
        }
        self.seq = sub.seq;
        self.receiver = sub.receiver;
    }
}

fn render(model: &ReadModel, e: &Event) -> SseEvent {
    let id = model.event_id(e.seq);
    match &e.kind {
        EventKind::Update(l) => SseEvent::default().event("update").id(id).data(&*l.json),
        EventKind::Revoked(p) => SseEvent::default()
            .event("revoked")
            .id(id)
            .data(json!({ "partitions": p }).to_string()),
    }
}

async fn next(mut st: Stream) -> Option<(Result<SseEvent, Infallible>, Stream)> {
    loop {
        if *st.shutdown.borrow() {
            return None;
        }
        if let Some(e) = st.queue.pop_front() {
            return Some((Ok(e), st));
        }
        let received = tokio::select! {
            changed = st.shutdown.changed() => {
                if changed.is_err() {
                    return None;
                }
                continue;
            }
            r = st.receiver.recv() => r,
        };
        match received {
            Ok(e) => {
                if e.seq <= st.seq {
                    continue;
                }
                st.seq = e.seq;
                if st.filter.matches_event(&e) {
                    let rendered = render(&st.model, &e);
                    st.queue.push_back(rendered);
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(missed, after = st.seq, "SSE subscriber lagged; resuming");
                let sub = st.model.resume(st.seq, &st.filter, SnapshotReason::Lagged);
                st.start(sub);
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

fn filter_of(params: &Params) -> Result<EventFilter, ApiError> {
    Ok(EventFilter {
        country: params.country("country")?,
        grade: params.grade("grade")?,
        incident: params.incident("incident")?,
    })
}

/// `GET /updates?country=&grade=&incident=&last_event_id=`.
pub async fn updates(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let params = match Params::parse(&uri, &["country", "grade", "incident", "last_event_id"]) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let filter = match filter_of(&params) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    // The header wins (a reconnecting EventSource sends it); a header that is not text is an
    // unknown id: the stream starts with a snapshot.
    let last = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().unwrap_or("\u{0}").to_string()),
        None => params.get("last_event_id").map(str::to_string),
    };
    let model = app.model().clone();
    let sub = model.subscribe(last.as_deref(), &filter);
    let mut st = Stream {
        model,
        filter,
        queue: VecDeque::new(),
        seq: 0,
        receiver: sub.receiver.resubscribe(),
        shutdown: app.shutdown_signal(),
    };
    st.start(sub);
    Sse::new(stream::unfold(st, next))
        .keep_alive(KeepAlive::new().interval(app.keep_alive()))
        .into_response()
}
