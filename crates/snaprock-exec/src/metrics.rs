//! The server's Prometheus registry (`GET /metrics`): one per engine, so servers in one
//! process (the tests) never mix their figures. Statements, connections and compaction are
//! counted here as they happen; the backup service brings its own series
//! (`snaprock_backup::metrics`); what is a state (open connections, catalog commits) is read
//! at scrape time by [`EngineStateCollector`].

use std::sync::{Arc, Weak};
use std::time::Duration;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use tracing::warn;

use crate::engine::Engine;

/// Statement latency: from a cached point lookup to a long load.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
];

/// Why a connection was refused before it could run a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` reached.
    TooManyConnections,
    /// Wrong user or password.
    AccessDenied,
    /// A plain-text login where TLS is required.
    InsecureTransport,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::TooManyConnections => "too_many_connections",
            Refusal::AccessDenied => "access_denied",
            Refusal::InsecureTransport => "insecure_transport",
        }
    }
}

/// The event counters of one server, and the registry that exposes them with everyone else's.
pub struct ServerMetrics {
    registry: Registry,
    connections: IntCounter,
    refused: IntCounterVec,
    statements: IntCounterVec,
    statement_errors: IntCounterVec,
    latency: HistogramVec,
    compaction_runs: IntCounterVec,
    compacted_partitions: IntCounter,
    http_requests: IntCounterVec,
}

impl std::fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerMetrics")
    }
}

fn counter(name: &str, help: &str) -> IntCounter {
    IntCounter::new(name, help).expect("valid metric")
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
}

impl ServerMetrics {
    pub(crate) fn new(backup: &snaprock_backup::BackupMetrics) -> Self {
        let metrics = ServerMetrics {
            registry: Registry::new(),
            connections: counter(
                "snaprock_connections_total",
                "MySQL connections accepted, refused ones included",
            ),
            refused: counter_vec(
                "snaprock_connections_refused_total",
                "MySQL connections refused, by reason",
                &["reason"],
            ),
            statements: counter_vec(
                "snaprock_statements_total",
                "Statements run, by kind",
                &["kind"],
            ),
            statement_errors: counter_vec(
                "snaprock_statement_errors_total",
                "Statements that failed, by kind (`unparsed` when the text did not parse)",
                &["kind"],
            ),
            latency: HistogramVec::new(
                HistogramOpts::new(
                    "snaprock_query_duration_seconds",
                    "Time to run a statement, by kind",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["kind"],
            )
            .expect("valid metric"),
            compaction_runs: counter_vec(
                "snaprock_compaction_runs_total",
                "Background compaction passes, by result",
                &["result"],
            ),
            compacted_partitions: counter(
                "snaprock_compacted_partitions_total",
                "Partitions whose small files compaction merged",
            ),
            http_requests: counter_vec(
                "snaprock_http_requests_total",
                "Requests to the HTTP listener, by path and status code",
                &["path", "code"],
            ),
        };
        let own: Vec<Box<dyn Collector>> = vec![
            Box::new(metrics.connections.clone()),
            Box::new(metrics.refused.clone()),
            Box::new(metrics.statements.clone()),
            Box::new(metrics.statement_errors.clone()),
            Box::new(metrics.latency.clone()),
            Box::new(metrics.compaction_runs.clone()),
            Box::new(metrics.compacted_partitions.clone()),
            Box::new(metrics.http_requests.clone()),
        ];
        for collector in own.into_iter().chain(backup.collectors()) {
            metrics.register(collector);
        }
        #[cfg(target_os = "linux")]
        metrics.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ));
        metrics
    }

    /// Adds series that read the engine's state (called once the engine exists).
    pub(crate) fn register_state(&self, engine: &Arc<Engine>) {
        self.register(Box::new(EngineStateCollector::new(engine)));
        self.register(Box::new(snaprock_backup::BackupStateCollector::new(
            &engine.backup,
        )));
    }

    fn register(&self, collector: Box<dyn Collector>) {
        if let Err(e) = self.registry.register(collector) {
            warn!(error = %e, "metric not registered");
        }
    }

    /// Every series, as families (information_schema.be_metrics lists them).
    pub(crate) fn gather(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.registry.gather()
    }

    /// Every series in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            warn!(error = %e, "metrics not encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    pub fn connection_accepted(&self) {
        self.connections.inc();
    }

    pub fn connection_refused(&self, why: Refusal) {
        self.refused.with_label_values(&[why.label()]).inc();
    }

    /// Counts a statement that ran for `elapsed`; `kind` is `unparsed` for text that did not
    /// parse.
    pub(crate) fn statement(&self, kind: &str, elapsed: Duration, failed: bool) {
        self.statements.with_label_values(&[kind]).inc();
        if failed {
            self.statement_errors.with_label_values(&[kind]).inc();
        }
        self.latency
            .with_label_values(&[kind])
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn compaction(&self, result: Result<usize, ()>) {
        match result {
            Ok(partitions) => {
                self.compaction_runs.with_label_values(&["ok"]).inc();
                self.compacted_partitions.inc_by(partitions as u64);
            }
            Err(()) => self.compaction_runs.with_label_values(&["failed"]).inc(),
        }
    }

    /// Counts a request to the HTTP listener (`path` one of its routes, or `other`).
    pub fn http_request(&self, path: &str, code: u16) {
        self.http_requests
            .with_label_values(&[path, &code.to_string()])
            .inc();
    }
}

/// Series read from the engine at every scrape.
struct EngineStateCollector {
    engine: Weak<Engine>,
    open_connections: IntGauge,
    catalog_commits: IntCounter,
    uptime: prometheus::Gauge,
    first_version: u64,
}

impl EngineStateCollector {
    fn new(engine: &Arc<Engine>) -> Self {
        EngineStateCollector {
            engine: Arc::downgrade(engine),
            open_connections: IntGauge::new("snaprock_connections", "MySQL connections open now")
                .expect("valid metric"),
            catalog_commits: counter(
                "snaprock_catalog_commits_total",
                "Catalog commits since the server started (loads, DDL, restores, compaction)",
            ),
            uptime: prometheus::Gauge::new(
                "snaprock_uptime_seconds",
                "Seconds since the server started",
            )
            .expect("valid metric"),
            first_version: engine.catalog.snapshot().version,
        }
    }
}

impl Collector for EngineStateCollector {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.open_connections.desc(),
            self.catalog_commits.desc(),
            self.uptime.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Some(engine) = self.engine.upgrade() else {
            return Vec::new();
        };
        self.open_connections.set(engine.connection_count() as i64);
        let commits = engine
            .catalog
            .snapshot()
            .version
            .saturating_sub(self.first_version);
        // A counter only goes up: add what was committed since the last scrape.
        self.catalog_commits
            .inc_by(commits.saturating_sub(self.catalog_commits.get()));
        self.uptime.set(engine.started.elapsed().as_secs_f64());
        [
            self.open_connections.collect(),
            self.catalog_commits.collect(),
            self.uptime.collect(),
        ]
        .concat()
    }
}
