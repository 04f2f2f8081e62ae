//! Interactive queries across instances, as Kafka Streams has them: each instance answers for
//! the partitions it owns and knows its peers (instance id, advertised HTTP URL, assigned
//! partitions) from the instances topic (`crate::adapters::kafka::instances` fills
//! [`Peers`]). A query for an incident not held here is forwarded to the peers that own
//! partitions, concurrently, with `x-reckon-forwarded: 1` so that it is never forwarded again;
//! the first `200` wins.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

/// The header that marks a forwarded request.
pub const FORWARDED_HEADER: &str = "x-reckon-forwarded";

/// The header naming the instance that answered.
pub const SERVED_BY_HEADER: &str = "x-reckon-served-by";

/// The largest peer answer accepted (bytes).
const MAX_PEER_BODY: usize = 16 * 1024 * 1024;

/// What an instance announces about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The instance id (the processor's `--instance-id`).
    pub instance_id: String,
    /// Where its HTTP API is reached, e.g. `http://10.0.0.7:8080`.
    pub url: String,
    /// Its assigned input partitions.
    pub partitions: Vec<i32>,
    /// Its process run (the epoch of its SSE event ids).
    #[serde(default)]
    pub epoch: String,
    /// When it announced this (Unix milliseconds, its wall clock).
    #[serde(default)]
    pub announced_at_ms: i64,
}

/// The known instances (this one included, if it announced itself), by instance id.
#[derive(Debug, Clone, Default)]
pub struct Peers(Arc<RwLock<BTreeMap<String, PeerInfo>>>);

impl Peers {
    /// Records or replaces an instance.
    pub fn upsert(&self, info: PeerInfo) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(info.instance_id.clone(), info);
    }

    /// Forgets an instance (it shut down cleanly).
    pub fn remove(&self, instance_id: &str) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(instance_id);
    }

    /// Every known instance, by id.
    pub fn list(&self) -> Vec<PeerInfo> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Every known instance other than `me`.
    pub fn others(&self, me: &str) -> Vec<PeerInfo> {
        self.list()
            .into_iter()
            .filter(|p| p.instance_id != me)
            .collect()
    }
}

/// What asking one peer gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerOutcome {
    /// The peer.
    pub instance_id: String,
    /// Its URL.
    pub url: String,
    /// Its partitions.
    pub partitions: Vec<i32>,
    /// `not_found`, `restoring` (it answered 503: a partition of it is still restoring),
    /// `not_asked` (it owns no partitions), `unreachable`, `timeout`, `error`.
    pub outcome: &'static str,
    /// Details of an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A peer's successful answer.
#[derive(Debug, Clone)]
pub struct PeerHit {
    /// The peer that answered.
    pub instance_id: String,
    /// Its body (JSON).
    pub body: Bytes,
}

/// What forwarding gave.
#[derive(Debug, Clone)]
pub enum Forwarded {
    /// A peer answered `200`.
    Hit(PeerHit),
    /// None did: what each gave.
    Miss(Vec<PeerOutcome>),
}

/// The HTTP client that forwards queries to peers.
#[derive(Debug, Clone)]
pub struct Forwarder {
    client: Client<HttpConnector, Empty<Bytes>>,
    timeout: Duration,
}

impl Forwarder {
    /// A forwarder whose requests (connect included) take at most `timeout` each.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self { client, timeout }
    }

    /// Asks every peer that owns partitions for `path` (already percent-encoded, starting with
    /// `/`), concurrently; returns the first `200`, or what each peer gave.
    pub async fn forward(&self, peers: Vec<PeerInfo>, path: &str) -> Forwarded {
        let mut outcomes = Vec::new();
        let mut set = JoinSet::new();
        for peer in peers {
            if peer.partitions.is_empty() {
                outcomes.push(outcome(&peer, "not_asked", None));
                continue;
            }
            let this = self.clone();
            let path = path.to_string();
            set.spawn(async move {
                let result = this.ask(&peer, &path).await;
                (peer, result)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((peer, result)) = joined else {
                continue;
            };
            match result {
                Ok(body) => {
                    set.abort_all();
                    return Forwarded::Hit(PeerHit {
                        instance_id: peer.instance_id,
                        body,
                    });
                }
                Err((what, detail)) => outcomes.push(outcome(&peer, what, detail)),
            }
        }
        outcomes.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        Forwarded::Miss(outcomes)
    }

    async fn ask(
        &self,
        peer: &PeerInfo,
        path: &str,
    ) -> Result<Bytes, (&'static str, Option<String>)> {
        let url = format!("{}{path}", peer.url.trim_end_matches('/'));
        let uri: Uri = url
            .parse()
            .map_err(|e| ("error", Some(format!("bad peer URL {url:?}: {e}"))))?;
        let request = Request::get(uri)
            .header(FORWARDED_HEADER, HeaderValue::from_static("1"))
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .body(Empty::<Bytes>::new())
            .map_err(|e| ("error", Some(e.to_string())))?;
        let call = async {
            let response = self.client.request(request).await.map_err(|e| {
                let what = if e.is_connect() {
                    "unreachable"
                } else {
                    "error"
                };
                (what, Some(e.to_string()))
            })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_PEER_BODY)
                .collect()
                .await
                .map_err(|e| ("error", Some(format!("reading the answer: {e}"))))?
                .to_bytes();
            match status {
                StatusCode::OK => Ok(body),
                StatusCode::NOT_FOUND => Err(("not_found", None)),
                // The peer may own the incident but has not restored its partition yet.
                StatusCode::SERVICE_UNAVAILABLE => Err(("restoring", None)),
                s => Err(("error", Some(format!("status {s}")))),
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(("timeout", Some(format!("no answer in {:?}", self.timeout)))),
        }
    }
}

fn outcome(peer: &PeerInfo, what: &'static str, detail: Option<String>) -> PeerOutcome {
    PeerOutcome {
        instance_id: peer.instance_id.clone(),
        url: peer.url.clone(),
        partitions: peer.partitions.clone(),
        outcome: what,
        detail,
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("iq-2017_a.b~"), "iq-2017_a.b~");
        assert_eq!(encode_segment("a/b c?d"), "a%2Fb%20c%3Fd");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }
}
