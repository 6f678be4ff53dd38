//! A per-client rate: each client address may do something so many times a minute, with a
//! burst of the same size (a token bucket). Used by the registry's admission control and the
//! verifier's open endpoints; std only, so a verifier on a phone can take it too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients remembered at once; past it, idle ones are forgotten first.
const MAX_CLIENTS: usize = 65_536;

/// Why a client may not act now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateRefused {
    /// This client used its share; it may act again after this long.
    Wait(Duration),
    /// So many clients are remembered, all active in the last minute, that a new one cannot be.
    TooManyClients,
}

/// So many acts per client address a minute (cheap to clone; clones share the counts).
#[derive(Clone)]
pub struct PerClient {
    per_minute: u32,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl PerClient {
    /// `per_minute` acts per client a minute.
    pub fn new(per_minute: u32) -> Self {
        PerClient {
            per_minute,
            buckets: Arc::default(),
        }
    }

    /// Takes one act of `client`'s share at `now`.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), RateRefused> {
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        // The lock guards a few arithmetic steps, never an await.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            // Forget clients whose bucket has refilled: they lose nothing by it.
            let full_after = Duration::from_secs(60);
            buckets.retain(|_, b| now.duration_since(b.at) < full_after);
            if buckets.len() >= MAX_CLIENTS {
                return Err(RateRefused::TooManyClients);
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second)
            .min(capacity);
        bucket.at = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            let wait = if per_second > 0.0 {
                (1.0 - refilled) / per_second
            } else {
                60.0
            };
            Err(RateRefused::Wait(Duration::from_secs_f64(wait.ceil())))
        }
    }
}
