//! The set of writer addresses for `grpc` mode: one lazily connected HTTP/2 channel per address,
//! picked round-robin, re-resolved periodically.
//!
//! Why not one `Channel` to the Service name: a single HTTP/2 connection is pinned to one pod,
//! so every call would land on the same writer. A headless Service instead answers DNS with
//! every ready pod's address; this pool keeps a channel to each of them.
//!
//! Why round-robin over our own list instead of tonic's `balance_channel` (p2c): the spread is
//! exact and observable (each writer gets 1/n of the calls, which the tests check), and a pool
//! with no address at all fails the call at once with 503 instead of parking it in the
//! balancer's ready queue until the deadline turns it into a misleading 504.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::pb::product_sale_service_client::ProductSaleServiceClient;

/// Resolves one `host:port` target to all its addresses.
pub type ResolveFn =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>> + Send + Sync>;

/// The system resolver: every A/AAAA record of the host (a headless Service gives one per pod).
pub fn dns_resolver() -> ResolveFn {
    Arc::new(|target: String| Box::pin(async move { Ok(tokio::net::lookup_host(target).await?.collect()) }))
}

/// One writer address and the client bound to its channel.
#[derive(Clone)]
pub struct Member {
    pub addr: SocketAddr,
    pub client: ProductSaleServiceClient<Channel>,
}

pub struct WriterPool {
    targets: Vec<String>,
    resolve: ResolveFn,
    connect_timeout: Duration,
    /// What each target resolved to last time it resolved; a target whose lookup fails keeps
    /// its previous addresses, so a DNS hiccup does not empty the pool.
    by_target: Mutex<BTreeMap<String, Vec<SocketAddr>>>,
    members: RwLock<Arc<Vec<Member>>>,
    next: AtomicUsize,
}

impl WriterPool {
    pub fn new(targets: Vec<String>, resolve: ResolveFn, connect_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            targets,
            resolve,
            connect_timeout,
            by_target: Mutex::new(BTreeMap::new()),
            members: RwLock::new(Arc::new(Vec::new())),
            next: AtomicUsize::new(0),
        })
    }

    /// Resolves every target again and swaps in the new member list, keeping the channels (and
    /// their open connections) of addresses that are still there.
    pub async fn refresh(&self) {
        for t in &self.targets {
            match (self.resolve)(t.clone()).await {
                Ok(addrs) => {
                    self.by_target.lock().unwrap().insert(t.clone(), addrs);
                }
                Err(e) => {
                    tracing::warn!(target_name = %t, error = %e, "resolving writer target failed; keeping previous addresses")
                }
            }
        }
        let wanted: BTreeSet<SocketAddr> = self.by_target.lock().unwrap().values().flatten().copied().collect();
        let old = self.members();
        let mut next = Vec::with_capacity(wanted.len());
        for addr in wanted {
            match old.iter().find(|m| m.addr == addr) {
                Some(m) => next.push(m.clone()),
                None => match self.channel(addr) {
                    Ok(ch) => next.push(Member {
                        addr,
                        client: ProductSaleServiceClient::new(ch),
                    }),
                    Err(e) => tracing::warn!(%addr, error = %e, "cannot build a channel"),
                },
            }
        }
        let changed = next.len() != old.len() || next.iter().zip(old.iter()).any(|(a, b)| a.addr != b.addr);
        if changed {
            tracing::info!(addrs = ?next.iter().map(|m| m.addr).collect::<Vec<_>>(), "writer addresses");
        }
        *self.members.write().unwrap() = Arc::new(next);
    }

    fn channel(&self, addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
        Ok(Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .connect_lazy())
    }

    pub fn members(&self) -> Arc<Vec<Member>> {
        self.members.read().unwrap().clone()
    }

    /// The next member, round-robin; `None` when nothing resolved.
    pub fn pick(&self) -> Option<Member> {
        let m = self.members();
        if m.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % m.len();
        Some(m[i].clone())
    }

    /// Re-resolves every `interval` for as long as the pool is alive.
    pub fn spawn_refresher(self: &Arc<Self>, interval: Duration) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate; the caller resolved already
            loop {
                tick.tick().await;
                let Some(pool) = weak.upgrade() else { return };
                pool.refresh().await;
            }
        });
    }
}
