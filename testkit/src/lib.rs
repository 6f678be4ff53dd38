//! Test support shared by the services' tests: what no answer or log line may repeat. A test
//! sends distinctive input, then checks with [`assert_no_echo`] that neither the [`readable`]
//! answer nor the [`logs`] hold any run of [`ECHO`] characters of it. [`postgres`] gives each
//! test that needs PostgreSQL a database of its own; [`ledger`] has parties that sign ledger
//! entries, and a log to apply them to; [`registry`] opens a registry for a test; [`vectors`]
//! finds the shared public test vectors; [`mdoc`] has certificates and elements for mdocs;
//! [`hsm`] has SoftHSM2 tokens for PKCS#11 keys.

pub mod hsm;
pub mod ledger;
pub mod mdoc;
pub mod postgres;
pub mod registry;
pub mod vectors;

use std::fmt::Debug;
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Runs this long or longer that the input holds count as an echo.
pub const ECHO: usize = 8;

/// Checks that the answer to `what` (its `body`) and the log lines `logged` meanwhile hold no
/// run of any of `secrets` ([`assert_no_echo`]); returns the answer as JSON (`null` if it is
/// not JSON).
#[track_caller]
pub fn assert_quiet(what: &str, body: &[u8], logged: &str, secrets: &[impl AsRef<str>]) -> Value {
    assert_no_echo(what, &readable(body), secrets);
    assert_no_echo(&format!("the log after {what}"), logged, secrets);
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Panics if `text` holds a run of [`ECHO`] characters of any of `secrets`, or if a secret is
/// too short to be looked for; `what` names the text in the message.
#[track_caller]
pub fn assert_no_echo(what: &str, text: &str, secrets: &[impl AsRef<str>]) {
    for secret in secrets {
        let chars: Vec<char> = secret.as_ref().chars().collect();
        assert!(
            chars.len() >= ECHO,
            "{:?} is too short to be looked for",
            secret.as_ref()
        );
        for run in chars.windows(ECHO) {
            let run: String = run.iter().collect();
            assert!(
                !text.contains(&run),
                "{what} repeats {run:?} of what was submitted:\n{text}"
            );
        }
    }
}

/// An answer as sent and, if it is JSON, every string and key in it: what a reader of the
/// answer sees, escapes undone.
pub fn readable(body: &[u8]) -> String {
    fn strings(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                strings(v, out);
            }),
            _ => {}
        }
    }
    let mut out = String::from_utf8_lossy(body).into_owned();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        out.push('\n');
        strings(&value, &mut out);
    }
    out
}

/// `s` with every byte but the unreserved ones (RFC 3986) percent-encoded: fit for a path
/// segment, a query or a form value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Everything logged in this test binary, from the first call on: every event and span field
/// as text, a line each.
pub fn logs() -> &'static Logs {
    static LOGS: Logs = Logs(Mutex::new(Vec::new()));
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if let Err(e) = tracing::subscriber::set_global_default(Capture(&LOGS)) {
            panic!("another subscriber logs for this test binary: {e}");
        }
    });
    &LOGS
}

/// The lines logged, a line an event, span or span record with its fields.
pub struct Logs(Mutex<Vec<String>>);

/// A place in the [`Logs`]: where what a request logs begins.
#[derive(Clone, Copy, Debug)]
pub struct Mark(usize);

impl Logs {
    /// Here: the lines logged from now on are [`since`](Self::since) this mark.
    pub fn mark(&self) -> Mark {
        Mark(self.lines().len())
    }

    /// The lines logged since `mark`, other tests' running meanwhile among them.
    pub fn since(&self, mark: Mark) -> String {
        self.lines()[mark.0..].join("\n")
    }

    /// All the lines logged so far.
    pub fn all(&self) -> String {
        self.since(Mark(0))
    }

    fn lines(&self) -> MutexGuard<'_, Vec<String>> {
        // A test that panicked elsewhere leaves the lines as they were.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The subscriber that fills the [`Logs`].
struct Capture(&'static Logs);

/// Appends fields to a line, ` name=value` each.
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = span.metadata().name().to_owned();
        span.record(&mut Fields(&mut line));
        self.0.lines().push(line);
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::new();
        values.record(&mut Fields(&mut line));
        self.0.lines().push(line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().target().to_owned();
        event.record(&mut Fields(&mut line));
        self.0.lines().push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
