//! bf-loadgen: open-loop, constant-rate HTTP load for `scripts/benchmarks/pipeline` (docs/capacity.md).
//!
//! Sales are scheduled at a fixed rate whatever the answers do (open loop): a sale's latency is
//! measured from the moment it was *due*, so time spent waiting for a free connection counts (no
//! coordinated omission). The rate is stepped (`--rates`); each step runs `--step-seconds`, then
//! the step's sales are waited for and judged: a step whose p99 or error ratio breaks the limits
//! ends the run, and the last step that kept them is the knee.
//!
//! Why not a ready-made generator: the exact-count check (locust/reconcile.py) needs every sale's
//! Idempotency-Key and category with its outcome, and the bodies vary (categories, products,
//! prices from locust/catalog.json); `oha`/`wrk` send one body and report only totals.
//!
//! Outputs: `--results` (ok_total and per-step figures, the shape reconcile.py reads) and `--keys`
//! (accepted and in-doubt keys per category, Locust's keys-file shape). `--cpu NAME=PID` samples
//! utime+stime of those processes from /proc at each step's start and end.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

#[derive(Parser, Debug)]
#[command(
    name = "bf-loadgen",
    about = "open-loop constant-rate sales load (scripts/benchmarks/pipeline)"
)]
struct Args {
    /// Target, e.g. http://127.0.0.1:8080/api/v1/ventas
    #[arg(long)]
    url: String,
    /// The product catalogue (locust/catalog.json)
    #[arg(long)]
    catalog: String,
    /// Offered rates, sales/s, one step each, in order (e.g. 1000,2000,3000)
    #[arg(long, value_delimiter = ',', required = true)]
    rates: Vec<f64>,
    /// Seconds each step offers its rate
    #[arg(long, default_value_t = 10.0)]
    step_seconds: f64,
    /// Seconds at the first rate before the steps: connections, JIT and caches warm up; its sales
    /// are sent and counted like any other but the step is never judged
    #[arg(long, default_value_t = 5.0)]
    warmup_seconds: f64,
    /// Keep-alive connections (= the most sales in flight at once; more wait, and the wait counts)
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// A step whose p99 (ms, from each sale's due time) is above this breaks the limit
    #[arg(long, default_value_t = 250.0)]
    p99_limit_ms: f64,
    /// A step whose share of sales without a 2xx is above this breaks the limit
    #[arg(long, default_value_t = 0.001)]
    max_error_ratio: f64,
    /// Per-request budget (ms); a sale still waiting for a connection this long after it was due
    /// is not sent at all (counted as `late`, an error)
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Run every step even after one broke the limits
    #[arg(long)]
    all_steps: bool,
    /// NAME=PID: a process whose utime+stime is taken per step (repeatable)
    #[arg(long)]
    cpu: Vec<String>,
    /// Clock ticks per second of /proc/*/stat (`getconf CLK_TCK`)
    #[arg(long, default_value_t = 100.0)]
    clk_tck: f64,
    /// Prefix of the Idempotency-Keys (unique per run)
    #[arg(long, default_value = "bp")]
    key_prefix: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Tokio worker threads of the generator itself
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[arg(long)]
    results: Option<String>,
    #[arg(long)]
    keys: Option<String>,
}

// ------------------------------------------------------------------ catalogue and sales

#[derive(Deserialize)]
struct CatalogDoc {
    cantidad_vendida: Range<i64>,
    categories: Vec<CategoryDoc>,
}
#[derive(Deserialize)]
struct Range<T> {
    min: T,
    max: T,
}
#[derive(Deserialize)]
struct CategoryDoc {
    categoria: String,
    #[serde(default = "one")]
    weight: f64,
    products: Vec<ProductDoc>,
}
fn one() -> f64 {
    1.0
}
#[derive(Deserialize)]
struct ProductDoc {
    producto_id: String,
    precio_min: f64,
    precio_max: f64,
}

struct Catalog {
    doc: CatalogDoc,
    total_weight: f64,
}

impl Catalog {
    fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let doc: CatalogDoc = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        if doc.categories.is_empty() || doc.categories.iter().any(|c| c.products.is_empty()) {
            return Err(format!("{path}: every category needs products"));
        }
        let total_weight = doc.categories.iter().map(|c| c.weight).sum();
        Ok(Self { doc, total_weight })
    }

    /// A sale like locust/locustfile.py's make_sale: a category by weight, a product, a price in
    /// its range (2 decimals), a quantity in the catalogue's range. Returns (category index, body).
    fn sale(&self, rng: &mut fastrand::Rng) -> (usize, Bytes) {
        let mut x = rng.f64() * self.total_weight;
        let mut ci = self.doc.categories.len() - 1;
        for (i, c) in self.doc.categories.iter().enumerate() {
            if x < c.weight {
                ci = i;
                break;
            }
            x -= c.weight;
        }
        let c = &self.doc.categories[ci];
        let p = &c.products[rng.usize(..c.products.len())];
        let precio =
            ((p.precio_min + rng.f64() * (p.precio_max - p.precio_min)) * 100.0).round() / 100.0;
        let q = &self.doc.cantidad_vendida;
        let body = json!({"categoria": c.categoria, "producto_id": p.producto_id,
                          "precio": precio, "cantidad_vendida": rng.i64(q.min..=q.max)});
        (ci, Bytes::from(body.to_string()))
    }
}

// ------------------------------------------------------------------ outcomes

struct Job {
    step: usize,
    due: Instant,
    key: String,
    cat: usize,
    body: Bytes,
}

#[derive(Default)]
struct StepTally {
    sent: u64,
    done: u64,
    ok: u64,
    refused: u64,
    in_doubt: u64,
    late: u64,
    status: BTreeMap<u16, u64>,
    latency_us: Vec<u64>,
}

struct Tally {
    steps: Vec<StepTally>,
    ok: Vec<Vec<String>>,
    in_doubt: Vec<Vec<String>>,
}

enum Outcome {
    Status(u16),
    /// connection error or no answer in time: the sale may be stored (in doubt)
    Failed,
    /// waited longer than the budget for a connection: never sent
    Late,
}

impl Tally {
    fn record(&mut self, job: Job, outcome: Outcome, latency: Duration) {
        let s = &mut self.steps[job.step];
        s.done += 1;
        s.latency_us.push(latency.as_micros() as u64);
        match outcome {
            Outcome::Status(code) => {
                *s.status.entry(code).or_default() += 1;
                if (200..300).contains(&code) {
                    s.ok += 1;
                    self.ok[job.cat].push(job.key);
                } else if (400..500).contains(&code) {
                    s.refused += 1;
                } else {
                    s.in_doubt += 1;
                    self.in_doubt[job.cat].push(job.key);
                }
            }
            Outcome::Failed => {
                *s.status.entry(0).or_default() += 1;
                s.in_doubt += 1;
                self.in_doubt[job.cat].push(job.key);
            }
            Outcome::Late => s.late += 1,
        }
    }
}

// ------------------------------------------------------------------ HTTP

struct Target {
    addr: String,
    host: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("--url: only http:// is supported")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    if !host.contains(':') {
        return Err("--url: give host:port".into());
    }
    Ok(Target {
        addr: host.to_owned(),
        host: host.to_owned(),
        path,
    })
}

async fn connect(t: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(&t.addr)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(
    conn: &mut Option<SendRequest<Full<Bytes>>>,
    t: &Target,
    job: &Job,
) -> Result<u16, String> {
    if conn.as_ref().is_none_or(|c| c.is_closed()) {
        *conn = Some(connect(t).await?);
    }
    let c = conn.as_mut().expect("connected above");
    c.ready().await.map_err(|e| e.to_string())?;
    let req = hyper::Request::post(&t.path)
        .header(hyper::header::HOST, &t.host)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", &job.key)
        .body(Full::new(job.body.clone()))
        .map_err(|e| e.to_string())?;
    let resp = c.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

async fn worker(
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>,
    target: Arc<Target>,
    tally: Arc<Mutex<Tally>>,
    budget: Duration,
) {
    let mut conn = None;
    loop {
        let job = match rx.lock().await.recv().await {
            Some(j) => j,
            None => return,
        };
        let waited = job.due.elapsed();
        let outcome = if waited >= budget {
            Outcome::Late
        } else {
            match tokio::time::timeout(budget - waited, send(&mut conn, &target, &job)).await {
                Ok(Ok(code)) => Outcome::Status(code),
                Ok(Err(_)) | Err(_) => {
                    conn = None; // a broken or abandoned connection is not reused
                    Outcome::Failed
                }
            }
        };
        let latency = job.due.elapsed();
        tally.lock().expect("tally").record(job, outcome, latency);
    }
}

// ------------------------------------------------------------------ CPU from /proc

/// utime + stime (ticks) of a process (all its threads), fields 14 and 15 of /proc/PID/stat.
fn proc_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 1..].split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// (busy, total) ticks of the whole machine (/proc/stat), to say how loaded it was.
fn machine_ticks() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = s
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

fn sample(procs: &[(String, String)]) -> Vec<Option<u64>> {
    procs.iter().map(|(_, pid)| proc_ticks(pid)).collect()
}

/// The steps to run: (rate, seconds, warm-up?) — the warm-up at the first rate, not judged.
fn schedule(args: &Args) -> Vec<(f64, f64, bool)> {
    let mut steps = Vec::new();
    if args.warmup_seconds > 0.0 {
        steps.push((args.rates[0], args.warmup_seconds, true));
    }
    steps.extend(args.rates.iter().map(|&r| (r, args.step_seconds, false)));
    steps
}

/// Waits until every sale of step `si` has its answer (or gave up).
async fn wait_for_step(tally: &Mutex<Tally>, si: usize) {
    loop {
        let t = tally.lock().expect("tally");
        if t.steps[si].done >= t.steps[si].sent {
            return;
        }
        drop(t);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Each watched process's CPU seconds between two samples, and its CPU µs per accepted sale.
fn cpu_per_process(
    procs: &[(String, String)],
    before: &[Option<u64>],
    after: &[Option<u64>],
    accepted: u64,
    clk_tck: f64,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    let mut cpu_s = serde_json::Map::new();
    let mut cpu_us = serde_json::Map::new();
    for (k, (name, _)) in procs.iter().enumerate() {
        if let (Some(a), Some(b)) = (before[k], after[k]) {
            let secs = (b.saturating_sub(a)) as f64 / clk_tck;
            cpu_s.insert(name.clone(), json!(secs));
            if accepted > 0 {
                cpu_us.insert(
                    name.clone(),
                    json!((secs * 1e6 / accepted as f64 * 10.0).round() / 10.0),
                );
            }
        }
    }
    (cpu_s, cpu_us)
}

// ------------------------------------------------------------------ the run

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("bf-loadgen: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<u8, String> {
    let catalog = Catalog::load(&args.catalog)?;
    let target = Arc::new(parse_url(&args.url)?);
    if args.rates.iter().any(|r| !(*r > 0.0)) || !(args.step_seconds > 0.0) || args.connections == 0
    {
        return Err("--rates, --step-seconds and --connections must be positive".into());
    }
    let mut procs: Vec<(String, String)> =
        vec![("bf-loadgen".into(), std::process::id().to_string())];
    for spec in &args.cpu {
        let (name, pid) = spec
            .split_once('=')
            .ok_or_else(|| format!("--cpu {spec}: want NAME=PID"))?;
        if proc_ticks(pid).is_none() {
            return Err(format!("--cpu {spec}: no process {pid}"));
        }
        procs.push((name.to_owned(), pid.to_owned()));
    }
    let ncat = catalog.doc.categories.len();
    let tally = Arc::new(Mutex::new(Tally {
        steps: Vec::new(),
        ok: vec![Vec::new(); ncat],
        in_doubt: vec![Vec::new(); ncat],
    }));
    let (tx, rx) = mpsc::unbounded_channel::<Job>();
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let budget = Duration::from_millis(args.timeout_ms);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| tokio::spawn(worker(rx.clone(), target.clone(), tally.clone(), budget)))
        .collect();

    let mut rng = fastrand::Rng::with_seed(args.seed);
    let mut seq: u64 = 0;
    let mut steps_out = Vec::new();
    let mut knee: Option<usize> = None;
    let t_run = Instant::now();
    println!(
        "bf-loadgen: {} connections, {} s per step, limits p99 <= {} ms and errors <= {:.2} %",
        args.connections,
        args.step_seconds,
        args.p99_limit_ms,
        100.0 * args.max_error_ratio
    );
    for (si, &(rate, step_seconds, warmup)) in schedule(&args).iter().enumerate() {
        tally
            .lock()
            .expect("tally")
            .steps
            .push(StepTally::default());
        let n = (rate * step_seconds).round() as u64;
        let cpu0 = sample(&procs);
        let m0 = machine_ticks();
        let start = Instant::now();
        for i in 0..n {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            let (cat, body) = catalog.sale(&mut rng);
            seq += 1;
            let key = format!("{}-{seq}", args.key_prefix);
            tally.lock().expect("tally").steps[si].sent += 1;
            tx.send(Job {
                step: si,
                due,
                key,
                cat,
                body,
            })
            .map_err(|_| "workers gone")?;
        }
        tokio::time::sleep_until((start + Duration::from_secs_f64(step_seconds)).into()).await;
        // the step's sales still in flight finish before it is judged (and before the next step)
        wait_for_step(&tally, si).await;
        let wall = start.elapsed().as_secs_f64();
        let cpu1 = sample(&procs);
        let m1 = machine_ticks();
        let mut t = tally.lock().expect("tally");
        let s = &mut t.steps[si];
        s.latency_us.sort_unstable();
        let errors = s.sent - s.ok;
        let err_ratio = if s.sent > 0 {
            errors as f64 / s.sent as f64
        } else {
            0.0
        };
        let (p50, p90, p99) = (
            percentile(&s.latency_us, 0.50),
            percentile(&s.latency_us, 0.90),
            percentile(&s.latency_us, 0.99),
        );
        let max = s.latency_us.last().map_or(f64::NAN, |m| *m as f64 / 1000.0);
        let accepted_per_s = s.ok as f64 / step_seconds;
        let passed = warmup || p99 <= args.p99_limit_ms && err_ratio <= args.max_error_ratio;
        let (cpu_s, cpu_us) = cpu_per_process(&procs, &cpu0, &cpu1, s.ok, args.clk_tck);
        let busy_cores = match (m0, m1) {
            (Some((b0, _)), Some((b1, _))) => {
                json!(((b1 - b0) as f64 / args.clk_tck / wall * 100.0).round() / 100.0)
            }
            _ => serde_json::Value::Null,
        };
        let label = if warmup {
            "warm-up".to_owned()
        } else {
            format!("step {}", si + 1 - usize::from(args.warmup_seconds > 0.0))
        };
        println!(
            "{label}: offered {:>6.0}/s  accepted {:>8.1}/s  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.0} ms  \
             errors {} ({:.3} %: in doubt {}, refused {}, late {})  machine busy {} cores  {}",
            rate, accepted_per_s, p50, p99, max, errors, 100.0 * err_ratio, s.in_doubt,
            s.refused, s.late, busy_cores, if warmup { "(not judged)" } else if passed { "ok" } else { "BREAKS THE LIMIT" }
        );
        steps_out.push(json!({
            "offered_per_s": rate, "seconds": step_seconds, "wall_s": wall, "warmup": warmup,
            "sent": s.sent, "ok": s.ok, "refused": s.refused, "in_doubt": s.in_doubt, "late": s.late,
            "errors": errors, "error_ratio": err_ratio,
            "status_counts": s.status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "accepted_per_s": accepted_per_s,
            "latency_ms": {"p50": p50, "p90": p90, "p99": p99, "max": max},
            "cpu_s": cpu_s, "cpu_us_per_sale": cpu_us, "machine_busy_cores": busy_cores,
            "passed": passed,
        }));
        s.latency_us = Vec::new();
        drop(t);
        if warmup {
            continue;
        }
        if passed {
            knee = Some(si);
        } else if !args.all_steps {
            break;
        }
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = t_run.elapsed().as_secs_f64();
    let t = Arc::try_unwrap(tally)
        .map_err(|_| "tally still shared")?
        .into_inner()
        .expect("tally");
    report(&args, &catalog, &t, &steps_out, knee, seq, elapsed)?;
    Ok(if knee.is_some() { 0 } else { 1 })
}

/// What a run ends with: the knee line and the totals on stdout, the results JSON (`--results`)
/// and the accepted/in-doubt keys per category (`--keys`, for the exact-count check).
fn report(
    args: &Args,
    catalog: &Catalog,
    t: &Tally,
    steps_out: &[serde_json::Value],
    knee: Option<usize>,
    seq: u64,
    elapsed: f64,
) -> Result<(), String> {
    let names: Vec<&str> = catalog
        .doc
        .categories
        .iter()
        .map(|c| c.categoria.as_str())
        .collect();
    let by_cat = |v: &Vec<Vec<String>>| -> serde_json::Map<String, serde_json::Value> {
        v.iter()
            .enumerate()
            .filter(|(_, ks)| !ks.is_empty())
            .map(|(i, ks)| (names[i].to_owned(), json!(ks)))
            .collect()
    };
    let count_by_cat = |v: &Vec<Vec<String>>| -> serde_json::Map<String, serde_json::Value> {
        v.iter()
            .enumerate()
            .filter(|(_, ks)| !ks.is_empty())
            .map(|(i, ks)| (names[i].to_owned(), json!(ks.len())))
            .collect()
    };
    let ok_total: usize = t.ok.iter().map(Vec::len).sum();
    let in_doubt_total: usize = t.in_doubt.iter().map(Vec::len).sum();
    let knee_json = knee.map(|k| {
        let s = &steps_out[k];
        json!({"step": k + 1, "label": if args.warmup_seconds > 0.0 { format!("step {k}") } else { format!("step {}", k + 1) }, "offered_per_s": s["offered_per_s"], "accepted_per_s": s["accepted_per_s"],
               "latency_ms": s["latency_ms"], "errors": s["errors"]})
    });
    match &knee_json {
        Some(k) => println!(
            "knee: {} — {:.1} accepted sales/s (offered {}/s), p50 {:.1} ms, p99 {:.1} ms",
            k["label"].as_str().unwrap_or(""),
            k["accepted_per_s"].as_f64().unwrap_or(0.0),
            k["offered_per_s"],
            k["latency_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
            k["latency_ms"]["p99"].as_f64().unwrap_or(f64::NAN)
        ),
        None => println!("knee: none — the first step already broke the limits"),
    }
    println!("sales sent {seq}, accepted {ok_total}, in doubt {in_doubt_total}, in {elapsed:.1} s");
    if let Some(path) = &args.results {
        let doc = json!({
            "tool": "bf-loadgen", "url": args.url, "connections": args.connections,
            "step_seconds": args.step_seconds, "warmup_seconds": args.warmup_seconds,
            "limits": {"p99_ms": args.p99_limit_ms, "error_ratio": args.max_error_ratio},
            "steps": steps_out, "knee": knee_json,
            "sales": seq, "ok_total": ok_total, "in_doubt_total": in_doubt_total,
            "ok_by_category": count_by_cat(&t.ok), "in_doubt_by_category": count_by_cat(&t.in_doubt),
            "elapsed_s": elapsed,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc).expect("json"))
            .map_err(|e| format!("{path}: {e}"))?;
    }
    if let Some(path) = &args.keys {
        let doc = json!({"ok": by_cat(&t.ok), "in_doubt": by_cat(&t.in_doubt)});
        std::fs::write(path, doc.to_string()).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_percentiles() {
        let t = parse_url("http://127.0.0.1:8080/api/v1/ventas").unwrap();
        assert_eq!(
            (t.addr.as_str(), t.path.as_str()),
            ("127.0.0.1:8080", "/api/v1/ventas")
        );
        assert!(parse_url("https://x:1/").is_err());
        assert!(parse_url("http://x/").is_err());
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
    }

    #[test]
    fn sales_follow_the_catalogue() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../locust/catalog.json");
        let c = Catalog::load(root).unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (ci, body) = c.sale(&mut rng);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let cat = &c.doc.categories[ci];
            assert_eq!(v["categoria"], cat.categoria.as_str());
            let p = cat
                .products
                .iter()
                .find(|p| v["producto_id"] == p.producto_id.as_str())
                .unwrap();
            let precio = v["precio"].as_f64().unwrap();
            assert!(precio >= p.precio_min - 0.005 && precio <= p.precio_max + 0.005);
            seen.insert(ci);
        }
        assert_eq!(
            seen.len(),
            c.doc.categories.len(),
            "every category is drawn"
        );
    }
}
