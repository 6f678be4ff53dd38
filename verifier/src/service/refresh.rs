//! Keeping the bundle fresh: refreshes from the registry, and the shared, rate-limited catch-up
//! a verification asks for when a newer bundle may judge it otherwise.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{
    CATCH_UP_INTERVAL, CATCH_UP_WAIT, CatchUp, ServiceError, TrustView, VerifierService, lock, now,
};
use crate::Trust;

impl VerifierService {
    /// Fetches the registry's delta since the bundle held (or, with none yet, its whole bundle)
    /// and swaps in the result. Verifications meanwhile judge by the bundle held; on any failure
    /// it stays.
    pub async fn refresh(&self) -> Result<TrustView, ServiceError> {
        let ledger = self.ledger.as_ref().ok_or(ServiceError::NoRegistry)?;
        // Serialized so that each delta applies to the bundle it was asked against.
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let held = self.inner.trust.load_full();
        let since = held.as_ref().map(|trust| trust.size());
        // Over HTTP, read no more than a bundle may be (`RegistryClient::bundle`).
        let bundle = ledger.bundle(since, self.types.as_deref()).await?;
        let anchor = self.inner.anchor.clone();
        // Proofs, signatures and status lists: CPU work, on a copy, off the async threads.
        let next = tokio::task::spawn_blocking(move || match held {
            Some(held) => {
                let mut next = Trust::clone(&held);
                next.update(&bundle).map(|()| next)
            }
            None => Trust::load(&bundle, anchor),
        })
        .await
        .map_err(|e| ServiceError::internal("refresh task", e))??;
        if since != Some(next.size()) {
            tracing::info!(size = next.size(), "trust bundle refreshed");
        }
        let view = TrustView::of(&next, now(), self.inner.config.max_bundle_age, self.issuers);
        self.inner.trust.store(Some(Arc::new(next)));
        Ok(view)
    }

    /// A refresh for `POST /api/trust/refresh`, which anyone may call: every caller gets a
    /// bundle refreshed after it called, and the registry is asked at most once per
    /// [`CATCH_UP_INTERVAL`] however many call. Callers queue; one that finds a refresh started
    /// since it called takes that one's bundle, and one that finds the last refresh too recent
    /// waits out the interval, then refreshes for everyone queued behind it.
    pub async fn refresh_on_request(&self) -> Result<TrustView, ServiceError> {
        let called = Instant::now();
        let mut last = self.inner.last_asked.lock().await;
        if let Some(at) = *last {
            if at >= called {
                drop(last);
                return self.trust(now());
            }
            tokio::time::sleep_until((at + CATCH_UP_INTERVAL).into()).await;
        }
        *last = Some(Instant::now());
        self.refresh().await
    }

    /// Brings the bundle held past checkpoint size `judged_at`, for a verification judged by
    /// that bundle that a newer one may judge otherwise. At most one such refresh starts per
    /// [`CATCH_UP_INTERVAL`], however many verifications ask; the others share it, and one that
    /// finds the last refresh too recent to have seen its list waits for the interval to pass
    /// and asks once more. Each waits at most [`CATCH_UP_WAIT`] for a refresh; a refresh keeps
    /// running if its verification stops waiting. Returns whether a bundle newer than
    /// `judged_at` is now held. Without a registry: `false` at once.
    pub async fn catch_up(&self, judged_at: u64) -> bool {
        if self.ledger.is_none() {
            return false;
        }
        let newer = || {
            self.inner
                .trust
                .load()
                .as_ref()
                .is_some_and(|trust| trust.size() > judged_at)
        };
        for first in [true, false] {
            if newer() {
                return true;
            }
            let (mut ended, too_recent) = self.shared_refresh();
            // Ended, failed or still running past the wait: the bundle held is judged by.
            let _ = tokio::time::timeout(CATCH_UP_WAIT, ended.wait_for(|&ended| ended)).await;
            match too_recent {
                // That refresh may have asked before this credential's list was published.
                Some(remaining) if first && !newer() => tokio::time::sleep(remaining).await,
                _ => break,
            }
        }
        newer()
    }

    /// The refresh to wait for: a new one, unless one started less than [`CATCH_UP_INTERVAL`]
    /// ago — then that one, and how long until another may start.
    fn shared_refresh(&self) -> (watch::Receiver<bool>, Option<Duration>) {
        let mut last = lock(&self.inner.catch_up);
        if let Some(last) = last.as_ref() {
            let elapsed = last.started.elapsed();
            if elapsed < CATCH_UP_INTERVAL {
                return (last.ended.clone(), Some(CATCH_UP_INTERVAL - elapsed));
            }
        }
        let (tx, ended) = watch::channel(false);
        *last = Some(CatchUp {
            started: Instant::now(),
            ended: ended.clone(),
        });
        let service = self.clone();
        tokio::spawn(async move {
            match service.refresh().await {
                Ok(_) => tracing::info!("trust bundle refreshed for a status list it lacked"),
                Err(e) => tracing::warn!(
                    code = e.code(),
                    "refresh for a status list the bundle lacked failed; keeping the bundle held"
                ),
            }
            let _ = tx.send(true);
        });
        (ended, None)
    }
}
