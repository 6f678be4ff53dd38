//! Admission control for open appends.
//!
//! Anyone may register a DID (`did.create` is open by design), so the append endpoint is open
//! to strangers. Entries signed by a DID that takes part in trust — the root authority, an
//! accredited issuer, a delegator — with a key of its document are authorised acts and always
//! admitted ([`LedgerState::signed_by_trust_did`]: the signature is checked here, not only by
//! the sequencer, so naming such a DID in `kid` gains nothing). Every other entry is an *open
//! append*: it is admitted at most [`Admission::per_client_per_minute`] times a minute per
//! client address (a token bucket, [`PerClient`]), and
//! at most [`Admission::max_pending`] of them wait for the sequencer at once. A refused append
//! is answered `429` or `503` with `Retry-After` and changes nothing.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use dojang_core::rate::{PerClient, RateRefused};

#[cfg(doc)]
use dojang_ledger::state::LedgerState;

/// Limits on open appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Open appends admitted per client address per minute (burst of the same size).
    pub per_client_per_minute: u32,
    /// Open appends waiting to be sequenced at once, from all clients.
    pub max_pending: usize,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            per_client_per_minute: 30,
            max_pending: 256,
        }
    }
}

/// Why an open append was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This client used its share; try again after this long.
    RateLimited(Duration),
    /// Too many open appends are waiting already.
    Busy,
}

/// The running limiter (cheap to clone).
#[derive(Clone)]
pub struct Limiter {
    rate: PerClient,
    pending: Arc<Semaphore>,
}

impl Limiter {
    /// A limiter enforcing `admission`.
    pub fn new(admission: Admission) -> Self {
        Limiter {
            rate: PerClient::new(admission.per_client_per_minute),
            pending: Arc::new(Semaphore::new(admission.max_pending)),
        }
    }

    /// Admits one open append from `client`; hold the permit until it is sequenced.
    pub fn admit(&self, client: IpAddr) -> Result<OwnedSemaphorePermit, Refused> {
        self.take_token(client, Instant::now())?;
        self.pending
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Busy)
    }

    fn take_token(&self, client: IpAddr, now: Instant) -> Result<(), Refused> {
        self.rate
            .take(client, now)
            .map_err(|refused| match refused {
                RateRefused::Wait(wait) => Refused::RateLimited(wait),
                RateRefused::TooManyClients => Refused::Busy,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_then_waits_and_others_are_not_affected() {
        let limiter = Limiter::new(Admission {
            per_client_per_minute: 3,
            max_pending: 100,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            limiter.take_token(a, start).unwrap();
        }
        assert_eq!(
            limiter.take_token(a, start),
            Err(Refused::RateLimited(Duration::from_secs(20)))
        );
        limiter.take_token(b, start).unwrap();
        // One token comes back every 20 s.
        limiter
            .take_token(a, start + Duration::from_secs(20))
            .unwrap();
        assert!(
            limiter
                .take_token(a, start + Duration::from_secs(21))
                .is_err()
        );
    }

    #[test]
    fn pending_open_appends_are_bounded() {
        let limiter = Limiter::new(Admission {
            per_client_per_minute: 100,
            max_pending: 2,
        });
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        let first = limiter.admit(client).unwrap();
        let _second = limiter.admit(client).unwrap();
        assert_eq!(limiter.admit(client).err(), Some(Refused::Busy));
        drop(first);
        assert!(limiter.admit(client).is_ok());
    }
}
