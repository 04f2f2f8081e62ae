//! `reckon run`: the processor. Consumes the reports topic in a consumer group, publishes
//! reconciled updates, keeps per-partition state in the changelog topic, and stops cleanly on
//! SIGINT or SIGTERM (last commit cycle, group left, exit 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use reckon::adapters::http::{HttpArgs, HttpConfig, HttpServer, Peers};
use reckon::adapters::kafka::instances::{ensure_instances_topic, Announce, Instances};
use reckon::adapters::kafka::processor::{default_instance_id, Processor, ProcessorConfig};
use reckon::adapters::kafka::{ensure_topics, KafkaArgs, TopicLayout};
use reckon::runtime::ReadModel;
use reckon::wire::ContentType;

use super::reconcile::{load_actors, load_places, load_registry};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// Wire form of published updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// `application/json`.
    Json,
    /// `application/x-protobuf`.
    Protobuf,
}

impl From<OutputFormat> for ContentType {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Json => ContentType::Json,
            OutputFormat::Protobuf => ContentType::Protobuf,
        }
    }
}

/// Arguments of `reckon run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Brokers, `-X` properties, topic names.
    #[command(flatten)]
    kafka: KafkaArgs,
    /// Consumer group: instances with the same group split the partitions.
    #[arg(long, env = "RECKON_GROUP_ID", default_value = "reckon")]
    group_id: String,
    /// This instance's stable name (client id; with --exactly-once, part of transactional.id).
    /// Defaults to the host name.
    #[arg(long, env = "RECKON_INSTANCE_ID")]
    instance_id: Option<String>,
    /// Wire form of published updates.
    #[arg(long, env = "RECKON_OUTPUT_FORMAT", value_enum, default_value = "json")]
    output_format: OutputFormat,
    /// JSON file of registered sources (id, kind, affiliated_with, credibility).
    #[arg(long, env = "RECKON_SOURCES")]
    sources: Option<PathBuf>,
    /// JSON file of standard place names and their aliases (a gazetteer); `reckon feed` must
    /// be given the same file.
    #[arg(long, env = "RECKON_PLACES")]
    places: Option<PathBuf>,
    /// JSON file of actors' ids and their aliases (an actor table).
    #[arg(long, env = "RECKON_ACTORS")]
    actors: Option<PathBuf>,
    /// Longest time between commit cycles (flush, changelog checkpoint, offsets).
    #[arg(long, env = "RECKON_COMMIT_INTERVAL_MS", default_value_t = 100)]
    commit_interval_ms: u64,
    /// Most records between commit cycles.
    #[arg(long, env = "RECKON_COMMIT_MAX_RECORDS", default_value_t = 1000)]
    commit_max_records: u64,
    /// Publish through Kafka transactions (updates, dead letters, changelog and offsets in one
    /// commit). Needs a broker with transactions (Apache Kafka, Redpanda).
    #[arg(long, env = "RECKON_EXACTLY_ONCE")]
    exactly_once: bool,
    /// Create missing topics (otherwise they are only verified).
    #[arg(long, env = "RECKON_CREATE_TOPICS")]
    create_topics: bool,
    /// Partitions of created topics.
    #[arg(long, env = "RECKON_PARTITIONS", default_value_t = 6)]
    partitions: i32,
    /// Replication factor of created topics.
    #[arg(long, env = "RECKON_REPLICATION", default_value_t = 1)]
    replication: i32,
    /// Log format.
    #[arg(long, env = "RECKON_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Serve Prometheus metrics on this address (`GET /metrics`), e.g. `0.0.0.0:9464`.
    #[arg(long, env = "RECKON_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// The HTTP query API (`--http-addr` turns it on; see docs/http-api.md).
    #[command(flatten)]
    http: HttpArgs,
}

/// The HTTP query API and the instances topic, when `--http-addr` is set.
struct HttpSide {
    model: Arc<ReadModel>,
    server: HttpServer,
    instances: Instances,
}

/// Starts the read model, the HTTP server and the announcer/peer reader.
async fn start_http(
    args: &HttpArgs,
    addr: SocketAddr,
    kafka: &KafkaArgs,
    instance_id: &str,
    create_topics: bool,
    replication: i32,
) -> Result<HttpSide> {
    ensure_instances_topic(kafka, &args.instances_topic, create_topics, replication)
        .await
        .context("checking the instances topic")?;
    let model = Arc::new(ReadModel::new(args.read_model_config()));
    let peers = Peers::default();
    let server = HttpServer::start(
        addr,
        model.clone(),
        peers.clone(),
        HttpConfig::new(instance_id),
    )
    .await
    .with_context(|| format!("serving the HTTP API on {addr}"))?;
    let url = args.advertised_url(server.local_addr(), &default_instance_id());
    let announce = Announce {
        topic: args.instances_topic.clone(),
        instance_id: instance_id.to_string(),
        url,
    };
    let instances = Instances::start(kafka, announce, model.clone(), peers)
        .context("starting the instances announcer")?;
    Ok(HttpSide {
        model,
        server,
        instances,
    })
}

/// Installs the tracing subscriber: `RUST_LOG` filters (default `info`), text or JSON.
pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests calling twice) is harmless: the first one stands.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    init_logging(args.log_format, "info");
    let registry = load_registry(args.sources.as_ref())?;
    let places = load_places(args.places.as_ref())?;
    let actors = load_actors(args.actors.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    // Only the names of -X properties are logged: their values may be secrets.
    let property_names: Vec<&str> = args
        .kafka
        .properties
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    tracing::info!(brokers = %args.kafka.brokers, properties = ?property_names, "connecting");

    let _metrics = match args.metrics_addr {
        Some(addr) => {
            let _guard = runtime.enter();
            let endpoint = reckon::adapters::metrics::Endpoint::start(addr)
                .with_context(|| format!("serving metrics on {addr}"))?;
            tracing::info!(addr = %endpoint.local_addr(), "serving metrics");
            Some(endpoint)
        }
        None => None,
    };

    let mut layout = TopicLayout::new(args.kafka.topics.clone(), args.partitions);
    layout.replication = args.replication;
    let admin_config = args.kafka.client_config();
    runtime
        .block_on(ensure_topics(&admin_config, &layout, args.create_topics))
        .context("checking the topics")?;

    let instance_id = args.instance_id.unwrap_or_else(default_instance_id);
    let http = match args.http.http_addr {
        Some(addr) => Some(runtime.block_on(start_http(
            &args.http,
            addr,
            &args.kafka,
            &instance_id,
            args.create_topics,
            args.replication,
        ))?),
        None => None,
    };

    let mut config = ProcessorConfig::new(args.kafka);
    config.group_id = args.group_id;
    config.instance_id = instance_id;
    config.read_model = http.as_ref().map(|h| h.model.clone());
    config.output_format = args.output_format.into();
    config.registry = registry;
    config.places = places;
    config.actors = actors;
    config.commit_interval = Duration::from_millis(args.commit_interval_ms.max(1));
    config.commit_max_records = args.commit_max_records;
    config.exactly_once = args.exactly_once;
    // Started outside the async runtime: init_transactions blocks.
    let handle = Processor::start(config).context("starting the processor")?;

    let signal = runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                r = tokio::signal::ctrl_c() => { r?; return Ok::<_, std::io::Error>(Some("SIGINT")); }
                _ = term.recv() => return Ok(Some("SIGTERM")),
                _ = tick.tick() => if handle.is_finished() { return Ok(None) },
            }
        }
    })?;
    if let Some(sig) = signal {
        tracing::info!(signal = sig, "stopping");
    }
    if let Some(h) = http {
        // Peers forget this instance first, then the API stops (SSE streams end).
        runtime.block_on(async {
            h.instances.shutdown().await;
            h.server.shutdown(Duration::from_secs(5)).await;
        });
    }
    // Joined outside the runtime: the last commit cycle blocks.
    let status = handle.shutdown().context("processor")?;
    tracing::info!(
        records = status.records,
        updates = status.updates,
        dead_letters = status.dead_letters,
        "stopped cleanly"
    );
    drop(runtime);
    Ok(ExitCode::SUCCESS)
}
