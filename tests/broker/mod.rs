//! Real-broker test harness: starts a Tansu broker on a free loopback port and stops it on drop.
//! The binary comes from `RECKON_TANSU_BIN` (set by `scripts/test.sh`) or the install cache that
//! `scripts/install-tansu.sh` fills. A missing broker fails the test: it is never skipped.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Tansu broker.
pub struct Tansu {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub bootstrap: String,
}

fn tansu_binary() -> PathBuf {
    if let Ok(p) = std::env::var("RECKON_TANSU_BIN") {
        return PathBuf::from(p);
    }
    let cache = std::env::var("RECKON_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let base = std::env::var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|_| {
                    PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
                });
            base.join("reckon-tools")
        });
    cache.join("tansu-0.6.0/bin/tansu")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Tansu {
    /// Starts a broker with in-memory storage and waits until it accepts connections.
    pub fn start() -> Tansu {
        let bin = tansu_binary();
        assert!(
            bin.exists(),
            "Tansu broker not found at {} — run scripts/test.sh (or scripts/install-tansu.sh) first",
            bin.display()
        );
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let bootstrap = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&bootstrap).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not start listening on {bootstrap}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Tansu { child, bootstrap }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
