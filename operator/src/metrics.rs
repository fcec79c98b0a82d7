//! Prometheus metrics of the reconciler: runs, failures by reason, durations.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    reconciles: Family<ResultLabels, Counter>,
    failures: Family<ReasonLabels, Counter>,
    overlaps: Counter,
    duration: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("blackfriday_operator");
        let reconciles = Family::<ResultLabels, Counter>::default();
        let failures = Family::<ReasonLabels, Counter>::default();
        let overlaps = Counter::default();
        let duration = Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        registry.register(
            "reconciles",
            "Reconciles by result (ok, error)",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Failed reconciles by stable error reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_overlaps",
            "Reconciles started while another reconcile of the same pipeline ran (must stay 0)",
            overlaps.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one reconcile",
            duration.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            reconciles,
            failures,
            overlaps,
            duration,
        }
    }
}

impl Metrics {
    pub fn observe(&self, elapsed: Duration, failure: Option<&str>) {
        self.duration.observe(elapsed.as_secs_f64());
        let result = if failure.is_some() { "error" } else { "ok" };
        self.reconciles
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
        if let Some(reason) = failure {
            self.count_failure(reason);
        }
    }

    pub fn count_overlap(&self) {
        self.overlaps.inc();
    }

    /// Reconciles that finished, by `ok` or `error` (tests wait on these).
    pub fn reconciles(&self, result: &str) -> u64 {
        self.reconciles
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .get()
    }

    pub fn overlaps(&self) -> u64 {
        self.overlaps.get()
    }

    fn count_failure(&self, reason: &str) {
        self.failures
            .get_or_create(&ReasonLabels {
                reason: reason.into(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry.lock().expect("not poisoned"))
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_runs_failures_by_reason_and_durations() {
        let m = Metrics::default();
        m.observe(Duration::from_millis(20), None);
        m.observe(Duration::from_millis(30), Some("ApplyFailed"));
        m.observe(Duration::from_millis(30), Some("InvalidSpec"));
        m.count_overlap();
        assert_eq!(
            (m.reconciles("ok"), m.reconciles("error"), m.overlaps()),
            (1, 2, 1)
        );
        let text = m.encode();
        assert!(
            text.contains("blackfriday_operator_reconcile_overlaps_total 1"),
            "{text}"
        );
        assert!(
            text.contains(r#"blackfriday_operator_reconciles_total{result="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"blackfriday_operator_reconciles_total{result="error"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"blackfriday_operator_reconcile_failures_total{reason="ApplyFailed"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("blackfriday_operator_reconcile_duration_seconds_count 3"),
            "{text}"
        );
    }
}
