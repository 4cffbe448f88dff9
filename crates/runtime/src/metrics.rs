//! Prometheus metrics every reconciler reports, by kind and by step, served on `/metrics`.

use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    kind: String,
    step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    kind: String,
    /// The step that failed, empty for a failure outside the steps.
    step: String,
    error: String,
}

type Durations<L> = Family<L, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 1 ms to about 30 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    reconciliations: Family<KindLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    writes: Family<KindLabels, Counter>,
    broker_requests: Family<KindLabels, Counter>,
    managed: Family<KindLabels, Gauge>,
    batch_workers: Family<KindLabels, Gauge>,
    reconcile_duration: Durations<KindLabels>,
    step_duration: Durations<StepLabels>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("brokerage"),
            reconciliations: Family::default(),
            failures: Family::default(),
            writes: Family::default(),
            broker_requests: Family::default(),
            managed: Family::default(),
            batch_workers: Family::default(),
            reconcile_duration: Family::new_with_constructor(duration_histogram),
            step_duration: Family::new_with_constructor(duration_histogram),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "reconciliations",
            "Reconciliations run",
            metrics.reconciliations.clone(),
        );
        registry.register(
            "reconciliation_failures",
            "Reconciliations that failed, by the step that failed and the error",
            metrics.failures.clone(),
        );
        registry.register(
            "api_writes",
            "Writes to the Kubernetes API made by reconciliations",
            metrics.writes.clone(),
        );
        registry.register(
            "broker_requests",
            "Requests sent to Kafka or RocketMQ by reconciliations",
            metrics.broker_requests.clone(),
        );
        registry.register(
            "managed_resources",
            "Custom resources currently managed",
            metrics.managed.clone(),
        );
        registry.register(
            "batch_workers",
            "Groups (clusters) with a worker reconciling their topics or users",
            metrics.batch_workers.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one reconciliation",
            metrics.reconcile_duration.clone(),
        );
        registry.register(
            "step_duration_seconds",
            "Duration of one step of a reconciliation",
            metrics.step_duration.clone(),
        );
        metrics
    }
}

impl Metrics {
    pub fn observe_reconcile(&self, kind: &str, took: Duration) {
        let labels = KindLabels { kind: kind.into() };
        self.reconciliations.get_or_create(&labels).inc();
        self.reconcile_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn observe_write(&self, kind: &str) {
        let labels = KindLabels { kind: kind.into() };
        self.writes.get_or_create(&labels).inc();
    }

    pub fn observe_broker_requests(&self, kind: &str, count: u64) {
        let labels = KindLabels { kind: kind.into() };
        self.broker_requests.get_or_create(&labels).inc_by(count);
    }

    pub fn observe_failure(&self, kind: &str, step: &str, error: &str) {
        let labels = FailureLabels {
            kind: kind.into(),
            step: step.into(),
            error: error.into(),
        };
        self.failures.get_or_create(&labels).inc();
    }

    pub fn observe_step(&self, kind: &str, step: &str, took: Duration) {
        let labels = StepLabels {
            kind: kind.into(),
            step: step.into(),
        };
        self.step_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    pub fn set_managed(&self, kind: &str, count: usize) {
        let labels = KindLabels { kind: kind.into() };
        self.managed.get_or_create(&labels).set(count as i64);
    }

    pub fn set_batch_workers(&self, kind: &str, count: usize) {
        let labels = KindLabels { kind: kind.into() };
        self.batch_workers.get_or_create(&labels).set(count as i64);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Times the phases of one piece of work one after another, each as a step of `kind`.
pub struct Timeline<'a> {
    metrics: &'a Metrics,
    kind: &'a str,
    since: Instant,
}

impl<'a> Timeline<'a> {
    pub fn new(metrics: &'a Metrics, kind: &'a str) -> Timeline<'a> {
        Timeline {
            metrics,
            kind,
            since: Instant::now(),
        }
    }

    /// Records the phase that ends now.
    pub fn done(&mut self, phase: &str) {
        let now = Instant::now();
        self.metrics
            .observe_step(self.kind, phase, now - self.since);
        self.since = now;
    }
}
