//! Prometheus metrics for `dojang up`, in the text exposition format: requests and their
//! latency by route, credentials issued, verdicts by decision, the registry's size.
//!
//! A handful of counters and one histogram do not need a metrics framework; the format is a few
//! lines of text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dojang_registry::service::Registry;
use dojang_verifier::service::VerifierService;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Clone, Default)]
pub(super) struct Metrics(Arc<Mutex<Counters>>);

#[derive(Default)]
struct Counters {
    /// (method, route, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → (bucket counts, sum of seconds, count).
    latency: BTreeMap<String, ([u64; BUCKETS.len()], f64, u64)>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut c = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *c.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let (buckets, sum, count) = c.latency.entry(route.to_owned()).or_default();
        for (bucket, bound) in buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        *sum += seconds;
        *count += 1;
    }
}

/// Middleware: counts every request by its route template (never the raw path, which may
/// carry ids) and times it.
pub(super) async fn track(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// What `/metrics` needs besides the request counters.
#[derive(Clone)]
pub(super) struct Sources {
    pub(super) metrics: Metrics,
    pub(super) registry: Registry,
    pub(super) verifier: VerifierService,
}

pub(super) async fn expose(State(sources): State<Sources>) -> impl IntoResponse {
    let size = sources.registry.size().await.ok();
    let (accepted, rejected) = sources.verifier.verdict_counts();
    let mut out = String::new();
    {
        let c = sources
            .metrics
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out += "# HELP dojang_http_requests_total HTTP requests by method, route and status.\n";
        out += "# TYPE dojang_http_requests_total counter\n";
        for ((method, route, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "dojang_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out += "# HELP dojang_http_request_duration_seconds HTTP request latency by route.\n";
        out += "# TYPE dojang_http_request_duration_seconds histogram\n";
        for (route, (buckets, sum, count)) in &c.latency {
            for (bound, n) in BUCKETS.iter().zip(buckets) {
                let _ = writeln!(
                    out,
                    "dojang_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "dojang_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}\n\
                 dojang_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}\n\
                 dojang_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        out += "# HELP dojang_credentials_issued_total Credentials issued (each format counts).\n";
        out += "# TYPE dojang_credentials_issued_total counter\n";
        let issued: u64 = c
            .requests
            .iter()
            .filter(|((method, route, status), _)| {
                method == "POST" && route == "/issuers/{slug}/credential" && *status == 200
            })
            .map(|(_, n)| n)
            .sum();
        let _ = writeln!(out, "dojang_credentials_issued_total {issued}");
    }
    out += "# HELP dojang_verifications_total Verdicts given by the verifier, by decision.\n";
    out += "# TYPE dojang_verifications_total counter\n";
    let _ = writeln!(
        out,
        "dojang_verifications_total{{decision=\"accepted\"}} {accepted}\n\
         dojang_verifications_total{{decision=\"rejected\"}} {rejected}"
    );
    if let Some(size) = size {
        out += "# HELP dojang_registry_entries Entries in the registry's log.\n";
        out += "# TYPE dojang_registry_entries gauge\n";
        let _ = writeln!(out, "dojang_registry_entries {size}");
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
