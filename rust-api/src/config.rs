//! 12-factor configuration: every setting is a flag and an environment variable (the operator
//! sets the variables in the Deployment), plus the tokio worker count derived from the cgroup.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Where an accepted sale goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// HTTP/JSON POST to grpc-client (`<downstream-url>/api/v1/ventas`), the brief's chain.
    Rest,
    /// gRPC `ProcesarVenta` straight to the writers, spread over every resolved address.
    Grpc,
    /// Benchmark only (scripts/benchmarks/pipeline's null sink): validate and answer 200 without
    /// forwarding, so nothing is stored. Never use it in a deployment.
    #[value(hide = true)]
    Null,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "rust-api",
    version,
    args_override_self = true,
    about = "Black Friday ingest API: validates a sale, gives it a UUIDv7 and forwards it"
)]
pub struct Config {
    /// Address to listen on (API, /healthz, /readyz, /metrics and /openapi.yaml share it).
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Forwarding mode.
    #[arg(long, env = "FORWARD_MODE", value_enum, ignore_case = true, default_value = "rest")]
    pub mode: Mode,

    /// rest mode: base URL of grpc-client; the sale is POSTed to `<url>/api/v1/ventas`.
    #[arg(long, env = "DOWNSTREAM_URL", default_value = "http://127.0.0.1:8081")]
    pub downstream_url: String,

    /// grpc mode: comma-separated `host:port` targets; every A/AAAA record of each host is used
    /// (point it at a headless Service to reach every writer pod).
    #[arg(
        long,
        env = "WRITER_TARGETS",
        value_delimiter = ',',
        default_value = "127.0.0.1:50051"
    )]
    pub writer_targets: Vec<String>,

    /// grpc mode: how often the writer targets are resolved again (pods come and go).
    #[arg(long, env = "RESOLVE_INTERVAL_MS", default_value_t = 5000)]
    pub resolve_interval_ms: u64,

    /// Whole-call budget for the downstream (HTTP request or gRPC deadline); past it: 504.
    #[arg(long, env = "DOWNSTREAM_TIMEOUT_MS", default_value_t = 5000)]
    pub downstream_timeout_ms: u64,

    /// TCP connect budget toward the downstream; a failed connect is a 503.
    #[arg(long, env = "CONNECT_TIMEOUT_MS", default_value_t = 1000)]
    pub connect_timeout_ms: u64,

    /// rest mode: idle keep-alive connections kept per downstream host. At least the expected
    /// concurrency, or connections get closed after use and TIME_WAIT churn comes back.
    #[arg(long, env = "POOL_MAX_IDLE_PER_HOST", default_value_t = 512)]
    pub pool_max_idle_per_host: usize,

    /// Tokio worker threads; 0 = derive from the cgroup CPU limit (and the CPU affinity).
    #[arg(long, env = "WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Make /readyz also check that the downstream answers (TCP connect in rest mode, at least
    /// one resolved writer address in grpc mode).
    #[arg(long, env = "READY_CHECK_DOWNSTREAM", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub ready_check_downstream: bool,

    /// Longest time graceful shutdown waits for in-flight requests after SIGTERM/SIGINT.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_MS", default_value_t = 25000)]
    pub shutdown_timeout_ms: u64,

    /// Log format: json (default, one object per line) or text.
    #[arg(long, env = "LOG_FORMAT", value_enum, ignore_case = true, default_value = "json")]
    pub log_format: LogFormat,

    /// Benchmark only: build a new HTTP client for every request (the naive pattern the
    /// benchmark compares against). Never use it in production.
    #[arg(long, env = "CLIENT_PER_REQUEST", hide = true, default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub client_per_request: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

impl Config {
    pub fn downstream_timeout(&self) -> Duration {
        Duration::from_millis(self.downstream_timeout_ms)
    }
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
    pub fn resolve_interval(&self) -> Duration {
        Duration::from_millis(self.resolve_interval_ms.max(100))
    }
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_millis(self.shutdown_timeout_ms)
    }

    /// A config with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Config::parse_from(["rust-api"])
    }

    /// Tokio workers: the flag if set, else the CPU limit of the cgroup rounded up, never more
    /// than the CPUs this process may run on. `#[tokio::main]` would start one per host CPU and
    /// a throttled pod then loses time to context switches.
    pub fn worker_threads(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        let affinity = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let limit = cgroup_cpu_limit().map(|c| c.ceil().max(1.0) as usize);
        limit.map_or(affinity, |l| l.min(affinity)).max(1)
    }
}

/// The CPU limit of this process's cgroup in cores, if one is set (v2, then v1).
pub fn cgroup_cpu_limit() -> Option<f64> {
    if let Ok(s) = std::fs::read_to_string("/sys/fs/cgroup/cpu.max") {
        return parse_cpu_max(&s);
    }
    let quota = std::fs::read_to_string("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").ok()?;
    let period = std::fs::read_to_string("/sys/fs/cgroup/cpu/cpu.cfs_period_us").ok()?;
    parse_cfs(&quota, &period)
}

/// cgroup v2 `cpu.max`: `"<quota> <period>"` or `"max <period>"`.
pub fn parse_cpu_max(s: &str) -> Option<f64> {
    let mut it = s.split_whitespace();
    let quota = it.next()?;
    let period: f64 = it.next().unwrap_or("100000").parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then(|| quota / period)
}

/// cgroup v1: quota `-1` means unlimited.
pub fn parse_cfs(quota: &str, period: &str) -> Option<f64> {
    let q: f64 = quota.trim().parse().ok()?;
    let p: f64 = period.trim().parse().ok()?;
    (q > 0.0 && p > 0.0).then(|| q / p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_parsing() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2.0));
        assert_eq!(parse_cpu_max("50000 100000"), Some(0.5));
        assert_eq!(parse_cpu_max("garbage"), None);
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("150000\n", "100000\n"), Some(1.5));
    }

    #[test]
    fn flags_and_defaults() {
        let c = Config::defaults();
        assert_eq!(c.mode, Mode::Rest);
        assert_eq!(c.listen.port(), 8080);
        assert!(!c.client_per_request);
        let c = Config::parse_from([
            "rust-api",
            "--mode",
            "grpc",
            "--writer-targets",
            "grpc-server-1:50051,grpc-server-2:50051",
            "--workers",
            "3",
        ]);
        assert_eq!(c.mode, Mode::Grpc);
        assert_eq!(c.writer_targets, ["grpc-server-1:50051", "grpc-server-2:50051"]);
        assert_eq!(Config::parse_from(["rust-api", "--mode", "GRPC"]).mode, Mode::Grpc);
        assert_eq!(c.worker_threads(), 3);
        // Booleans take a bare flag or any boolish value (env vars arrive as text: 1/0, yes/no).
        for (v, want) in [
            ("1", true),
            ("yes", true),
            ("true", true),
            ("0", false),
            ("no", false),
            ("false", false),
        ] {
            let c = Config::parse_from(["rust-api", &format!("--ready-check-downstream={v}")]);
            assert_eq!(c.ready_check_downstream, want, "{v}");
        }
        assert!(
            Config::parse_from(["rust-api", "--ready-check-downstream", "--client-per-request"]).client_per_request
        );
        assert!(Config::defaults().worker_threads() >= 1);
    }

    /// contract/env.json lists what the operator sets for rust-api; contract/ports.json its port.
    #[test]
    fn reads_every_variable_of_the_contract_and_listens_on_its_port() {
        use clap::CommandFactory;
        let env: serde_json::Value =
            serde_json::from_str(include_str!("../../contract/env.json")).expect("contract/env.json");
        let ports: serde_json::Value =
            serde_json::from_str(include_str!("../../contract/ports.json")).expect("contract/ports.json");
        let read: Vec<String> = Config::command()
            .get_arguments()
            .filter_map(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
            .collect();
        let wanted = env["programs"]["rust-api"]
            .as_array()
            .expect("rust-api in contract/env.json");
        assert!(!wanted.is_empty());
        for name in wanted {
            let name = name.as_str().unwrap();
            assert!(read.iter().any(|r| r == name), "rust-api reads no {name}: {read:?}");
        }
        let port = ports["programs"]["rust-api"]["http"]
            .as_u64()
            .expect("rust-api http port");
        assert_eq!(u64::from(Config::defaults().listen.port()), port);
    }
}
