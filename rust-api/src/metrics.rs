//! Prometheus metrics: requests by route and status, latency by route, downstream errors by
//! kind, and calls per writer address (shows the gRPC spread).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DownstreamLabels {
    pub mode: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriterLabels {
    pub addr: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s: a loopback hop is sub-millisecond, a slow writer is seconds.
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub downstream_errors: Family<DownstreamLabels, Counter>,
    pub writer_calls: Family<WriterLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let downstream_errors = Family::<DownstreamLabels, Counter>::default();
        let writer_calls = Family::<WriterLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "downstream_errors",
            "Forwards that did not end in an acknowledged sale, by kind",
            downstream_errors.clone(),
        );
        registry.register(
            "grpc_writer_calls",
            "ProcesarVenta calls by writer address (grpc mode)",
            writer_calls.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            downstream_errors,
            writer_calls,
        }
    }

    pub fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn downstream_error(&self, mode: &str, kind: &str) {
        self.downstream_errors
            .get_or_create(&DownstreamLabels {
                mode: mode.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_the_three_families() {
        let m = Metrics::new();
        m.observe_request("/api/v1/ventas", 422, 0.001);
        m.downstream_error("rest", "connect");
        let t = m.encode();
        assert!(
            t.contains(r#"http_requests_total{route="/api/v1/ventas",status="422"} 1"#),
            "{t}"
        );
        assert!(t.contains("http_request_duration_seconds_bucket"), "{t}");
        assert!(
            t.contains(r#"downstream_errors_total{mode="rest",kind="connect"} 1"#),
            "{t}"
        );
    }
}
