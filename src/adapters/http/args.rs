//! The command-line options of the HTTP query API (flattened into `reckon run`).

use std::net::SocketAddr;

use crate::runtime::ReadModelConfig;

/// Options of the HTTP query API.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// Serve the HTTP query API on this address, e.g. `0.0.0.0:8080` (off when absent).
    #[arg(long, env = "RECKON_HTTP_ADDR")]
    pub http_addr: Option<SocketAddr>,
    /// The URL peers reach this instance's API at (default: `http://<host name>:<port>` for a
    /// wildcard address, else `http://<address>`).
    #[arg(long, env = "RECKON_HTTP_ADVERTISE")]
    pub http_advertise: Option<String>,
    /// Compacted topic through which instances announce themselves for interactive queries.
    #[arg(
        long,
        env = "RECKON_INSTANCES_TOPIC",
        default_value = "reckon.instances"
    )]
    pub instances_topic: String,
    /// Versions kept per incident for `GET /incidents/{id}/history`.
    #[arg(long, env = "RECKON_HISTORY_LEN", default_value_t = 100)]
    pub history_len: usize,
    /// Recent events kept for resuming `GET /updates` streams with `Last-Event-ID`.
    #[arg(long, env = "RECKON_SSE_BUFFER", default_value_t = 10_000)]
    pub sse_buffer: usize,
}

impl HttpArgs {
    /// The read model's sizes.
    pub fn read_model_config(&self) -> ReadModelConfig {
        ReadModelConfig {
            history_len: self.history_len.max(1),
            buffer_len: self.sse_buffer.max(1),
            ..ReadModelConfig::default()
        }
    }

    /// The URL to announce for a server bound at `bound` on host `host`.
    pub fn advertised_url(&self, bound: SocketAddr, host: &str) -> String {
        if let Some(u) = &self.http_advertise {
            let u = u.trim_end_matches('/');
            return if u.contains("://") {
                u.to_string()
            } else {
                format!("http://{u}")
            };
        }
        if bound.ip().is_unspecified() {
            format!("http://{host}:{}", bound.port())
        } else {
            format!("http://{bound}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(advertise: Option<&str>) -> HttpArgs {
        HttpArgs {
            http_addr: None,
            http_advertise: advertise.map(str::to_string),
            instances_topic: "t".into(),
            history_len: 0,
            sse_buffer: 0,
        }
    }

    #[test]
    fn advertised_urls() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            args(None).advertised_url(any, "node-1"),
            "http://node-1:8080"
        );
        assert_eq!(
            args(None).advertised_url(lo, "node-1"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            args(Some("10.0.0.7:8080/")).advertised_url(any, "x"),
            "http://10.0.0.7:8080"
        );
        assert_eq!(
            args(Some("https://api.example")).advertised_url(any, "x"),
            "https://api.example"
        );
        let c = args(None).read_model_config();
        assert_eq!((c.history_len, c.buffer_len), (1, 1));
    }
}
