//! The README's walkthroughs and the role pages' commands (`docs/roles/*.md`), run as written.
//!
//! Each story is one bash script in a fresh directory: the ```sh blocks of its pages, in order,
//! with `dojang` the built binary (`cargo run --release --` too). A line that starts a server
//! runs it in the background until its port answers, and it is stopped at the end. What a
//! reader fills in — `<id>`, `'DJ1:…'`, a photo of a QR code — comes from each page's
//! substitution table: a shell expression for a value made earlier in the same story. A
//! placeholder the table does not know (`<…>` or `…`) fails the test, so the pages cannot grow
//! commands that are not run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Stories use the ports the docs name (8070, 8071, 8080, 8090, 8000): one at a time.
static PORTS: Mutex<()> = Mutex::new(());

fn ports() -> std::sync::MutexGuard<'static, ()> {
    PORTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A document's commands and what the test puts in place of its placeholders.
struct Page {
    /// The file, from the repository root.
    doc: &'static str,
    /// For the README: the section (heading) whose first ```sh block is meant. Otherwise every
    /// ```sh block of the page, in order.
    section: Option<&'static str>,
    /// Placeholder → shell expression, replaced textually in every line of the page.
    table: &'static [(&'static str, &'static str)],
    /// Lines (by how they start) that exit with another status than 0, and that status.
    exits: &'static [(&'static str, i32)],
}

const TRY_IT: Page = Page {
    doc: "README.md",
    section: Some("## Try it"),
    table: &[],
    exits: &[],
};

const RUN_THE_REGISTRY: Page = Page {
    doc: "README.md",
    section: Some("## Run the registry"),
    table: &[],
    exits: &[],
};

const RUN_AN_ISSUER: Page = Page {
    doc: "README.md",
    section: Some("## Run an issuer"),
    table: &[
        // A credential the office issued: the one from the batch's offer, once a citizen's
        // wallet has received it.
        ("<id>", r#""$(issued_from_batch)""#),
    ],
    exits: &[],
};

const REGISTRY: Page = Page {
    doc: "docs/roles/registry.md",
    section: None,
    table: &[
        // An issuer's DID: a new one, registered on the registry.
        (
            "<did>",
            r#""$(dojang key generate --alg ES256 --out hrdk.jwk >/dev/null && dojang registry create-did --key hrdk.jwk)""#,
        ),
        ("<name>", r#""HRD Korea""#),
        ("<type,…>", "qualification"),
        // The witness's name, as another agency would choose it.
        ("<agency>", "mois.go.kr/witness"),
        // The registry's log key, from its trust anchor.
        (
            "<log key>",
            r#""$(curl -s http://127.0.0.1:8070/trust-anchor | json log_key)""#,
        ),
        // The witness above: its URL, and the key it printed when it started.
        ("<url>", "http://127.0.0.1:8071"),
        (
            "<witness key>",
            r#""$(sed -n 's/^witness key: //p' "$LOGS/8071.log")""#,
        ),
    ],
    exits: &[],
};

const ISSUING_OFFICE: Page = Page {
    doc: "docs/roles/issuing-office.md",
    section: None,
    table: &[
        // The day the credential was issued: today, in Korean Standard Time as the office
        // counts days.
        ("2026-05-04", "$(TZ=UTC-9 date +%F)"),
        // The offer id given at issuance: the one in the batch's offers file.
        ("09c564f5-…", r#""$(offers offer_id)""#),
    ],
    exits: &[],
};

const CITIZEN: Page = Page {
    doc: "docs/roles/citizen.md",
    section: None,
    table: &[
        // A photo of the office's QR code: the batch's offer, drawn as a PNG.
        (
            "offer.png",
            r#""$(qr_png offer.png "$(offers credential_offer_uri)")""#,
        ),
        // The transaction code the office gave separately: the offers file's.
        ("493027", r#""$(offers tx_code)""#),
        // The credential, as `wallet list` shows it: the one received.
        ("<id>", r#""$(held_id)""#),
        // A photo of the counter's challenge QR: a challenge from the verifier the story runs.
        (
            "counter.png",
            r#""$(qr_png counter.png "$(curl -s -X POST http://127.0.0.1:8090/api/challenges | json text)")""#,
        ),
        // An online verifier's request: the same verifier's, for the card's name and age.
        (
            "'openid4vp://?…'",
            r#""$(curl -s -H 'content-type: application/json' -d '{"type": "citizen-card", "claims": ["name", "age_over_19"]}' http://127.0.0.1:8090/api/oid4vp/requests | json uri)""#,
        ),
    ],
    // Without --yes it shows what would be disclosed and sends nothing, which it says with 1.
    exits: &[("dojang wallet present --openid4vp", 1)],
};

const VERIFIER: Page = Page {
    doc: "docs/roles/verifier.md",
    section: None,
    table: &[
        // The registry the story runs.
        ("https://registry.example", "http://127.0.0.1:8070"),
        // The text of a citizen's QR code (a scanner's reading): the citizen's card, shown now.
        (
            "'DJ1:…'",
            r#""$(dojang wallet present "$(held_id)" --disclose name,age_over_19 --text)""#,
        ),
        // `qr.png` is the one the citizen showed; `badge.json` is written by the test.
    ],
    exits: &[],
};

/// What a story runs: a ```sh block of a page, or lines of the test's own (comment says why).
enum Step {
    Block(&'static Page, usize),
    Shell(&'static str),
}

/// The servers the docs start, the port each answers on, and the directory it runs in:
/// `dojang up` keeps its data in `./dojang-data` like the registry and the issuer started
/// before it, so it gets a directory of its own. (The docs give no `--listen`.)
const SERVERS: [(&str, u16, &str); 5] = [
    ("dojang registry serve", 8070, "."),
    ("dojang registry witness", 8071, "."),
    ("dojang issuer serve", 8080, "."),
    ("dojang verifier serve", 8090, "."),
    ("dojang up", 8000, "up"),
];

/// What every story's script starts with.
const PRELUDE: &str = r#"set -euo pipefail
shopt -s inherit_errexit
exec 2>&1

# A server line: run in the background in directory $2, its output appended to $LOGS/$1.log,
# until port $1 answers. One started on a port an earlier one holds replaces it; all are
# stopped at exit.
declare -A SERVERS=()
serve() {
    local port=$1 dir=$2
    shift 2
    if [ -n "${SERVERS[$port]:-}" ]; then
        kill "${SERVERS[$port]}"
        wait "${SERVERS[$port]}" || true
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "port $port is taken by another process"
        exit 1
    fi
    mkdir -p "$dir"
    echo "=== $*" >>"$LOGS/$port.log"
    (cd "$dir" && exec "$@") >>"$LOGS/$port.log" 2>&1 &
    SERVERS[$port]=$!
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
        kill -0 "${SERVERS[$port]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server for port $port stopped or did not answer in 30 s:"
    cat "$LOGS/$port.log"
    exit 1
}
trap 'kill "${SERVERS[@]}" 2>/dev/null || true; wait' EXIT

# Runs "$@" until it succeeds, 30 seconds at most: for what a server does after it answers.
eventually() {
    for _ in $(seq 300); do
        "$@" && return
        sleep 0.1
    done
    "$@"
}

# The string value of "$1" in the JSON on standard input (its first occurrence).
json() { grep -o -m1 "\"$1\": *\"[^\"]*\"" | sed -n '1s/^[^:]*: *"\(.*\)"$/\1/p'; }

# Column "$1" of the batch's offers file (its one row).
offers() {
    awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
                          NR == 2 { print $c }' offers-*.csv
}

# Draws "$2" as a QR code in the PNG file "$1" and prints "$1" (this test binary draws it).
qr_png() {
    DOJANG_README_QR_TEXT="$2" DOJANG_README_QR_PNG="$1" \
        "$README_TEST" --exact draw_a_qr_code_when_asked --quiet >/dev/null
    echo "$1"
}

# The id of the credential in the wallet (the citizen of a story holds one).
held_id() { dojang wallet list --json | json id; }

# The office's id of the credential issued from the batch's offer, once a citizen's wallet
# (receiver.db) has received it.
issued_from_batch() {
    local wallet=(env DOJANG_WALLET=receiver.db DOJANG_WALLET_SECRET=receiver)
    "${wallet[@]}" dojang wallet init >/dev/null
    "${wallet[@]}" dojang wallet receive "$(offers credential_offer_uri)" \
        --tx-code "$(offers tx_code)" >/dev/null
    dojang issuer list --issuer seoul --offer "$(offers offer_id)" --json | json id
}
"#;

/// A finished story: its directory and what it printed, command by command.
struct Story {
    root: tempfile::TempDir,
    transcript: String,
}

impl Story {
    /// Runs `steps` as one script in a fresh directory holding `files`.
    fn run(steps: &[Step], files: &[(&str, &str)]) -> Story {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dojang"), bin.join("dojang")).unwrap();
        std::fs::create_dir_all(root.path().join("logs")).unwrap();
        let mut story = Story {
            root,
            transcript: String::new(),
        };
        std::fs::create_dir_all(story.dir()).unwrap();
        for (name, text) in files {
            std::fs::write(story.dir().join(name), text).unwrap();
        }

        // Every block of a page runs: one added to a page must be added to its story.
        for step in steps {
            let Step::Block(page, _) = step else { continue };
            for n in 0..page.blocks().len() {
                let runs = steps.iter().any(|s| {
                    matches!(s, Step::Block(p, m) if (p.doc, p.section) == (page.doc, page.section) && *m == n)
                });
                assert!(runs, "{} block {n} is not in the story", page.doc);
            }
        }

        let mut script = String::from(PRELUDE);
        for step in steps {
            match step {
                Step::Block(page, n) => {
                    let blocks = page.blocks();
                    let block = blocks
                        .get(*n)
                        .unwrap_or_else(|| panic!("{} has no ```sh block {n}", page.doc));
                    script += &format!("\n# {}, block {n}\n", page.doc);
                    script += &compile(block, page);
                }
                Step::Shell(lines) => {
                    let page = Page {
                        doc: "the test",
                        section: None,
                        table: &[],
                        exits: &[],
                    };
                    script += "\n# the test's own\n";
                    script += &compile(lines, &page);
                }
            }
        }

        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(story.dir())
            .env("PATH", path)
            .env("LOGS", story.root.path().join("logs"))
            .env("README_TEST", std::env::current_exe().unwrap())
            .env_remove("DOJANG_PASSPHRASE")
            .env_remove("DOJANG_WALLET")
            .env_remove("DOJANG_WALLET_SECRET")
            .env_remove("DATABASE_URL")
            .env_remove("DOJANG_DATA_DIR")
            .output()
            .unwrap();
        story.transcript = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{script}\n--- output\n{}\n--- server logs\n{}",
            story.transcript,
            story.logs()
        );
        story
    }

    /// The story's working directory.
    fn dir(&self) -> PathBuf {
        self.root.path().join("story")
    }

    /// What the first command whose line starts with `line` printed (stdout and stderr).
    fn output(&self, line: &str) -> &str {
        let (_, rest) = self
            .transcript
            .split_once(&format!("\n>>> {line}"))
            .unwrap_or_else(|| panic!("no command `{line}` in\n{}", self.transcript));
        let rest = rest.split_once('\n').map_or("", |(_, rest)| rest);
        rest.split("\n>>> ").next().unwrap()
    }

    /// Every server's log.
    fn logs(&self) -> String {
        let mut logs = String::new();
        for entry in std::fs::read_dir(self.root.path().join("logs")).unwrap() {
            let path = entry.unwrap().path();
            logs += &format!("--- {}\n", path.display());
            logs += &std::fs::read_to_string(&path).unwrap_or_default();
        }
        logs
    }
}

impl Page {
    fn text(&self) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(self.doc);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The page's ```sh blocks (the README: the first of the section).
    fn blocks(&self) -> Vec<String> {
        let text = self.text();
        let text = match self.section {
            Some(heading) => {
                let section = text
                    .split_once(&format!("\n{heading}\n"))
                    .unwrap_or_else(|| panic!("{} has no `{heading}`", self.doc))
                    .1;
                let section = section.split("\n## ").next().unwrap();
                let block = fenced(section, "sh").into_iter().next();
                return Vec::from_iter(block);
            }
            None => text,
        };
        fenced(&text, "sh")
    }
}

/// The contents of the ````lang` blocks of `text`.
fn fenced(text: &str, lang: &str) -> Vec<String> {
    let open = format!("```{lang}\n");
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some((_, after)) = rest.split_once(&open) {
        let (block, after) = after.split_once("```").unwrap();
        blocks.push(block.to_owned());
        rest = after;
    }
    blocks
}

/// The page's first ```csv block.
fn csv_example(page: &Page) -> String {
    fenced(&page.text(), "csv").remove(0)
}

/// `block` as bash: comments dropped, placeholders replaced by `page`'s table, `cargo run
/// --release --` by the built binary, servers started in the background; each command
/// preceded by a `>>> line` marker in the output.
fn compile(block: &str, page: &Page) -> String {
    let mut script = String::new();
    for line in logical_lines(block) {
        if line.starts_with("alias dojang=") {
            continue; // the README's shorthand for `cargo run`: here the built binary
        }
        let mut command = line.clone();
        for (placeholder, value) in page.table {
            command = command.replace(placeholder, value);
        }
        if let Some(placeholder) = placeholder_in(&command) {
            panic!(
                "{}: `{placeholder}` in `{line}` is not in the page's substitution table",
                page.doc
            );
        }
        for cargo in ["cargo run --release -q --", "cargo run --release --"] {
            if let Some(rest) = command.strip_prefix(cargo) {
                command = format!("dojang{rest}");
            }
        }
        if let Some((_, port, dir)) = SERVERS.iter().find(|(s, ..)| command.starts_with(s)) {
            command = format!("serve {port} {dir} {command}");
        }
        if let Some((_, status)) = page.exits.iter().find(|(s, _)| line.starts_with(s)) {
            command = format!(
                "if {command}; then status=0; else status=$?; fi\n\
                 [ \"$status\" = {status} ] || {{ echo \"exit status $status, not {status}\"; exit 1; }}"
            );
        }
        let marker = format!(">>> {}", line.replace("\\\n", " "));
        // On a line of its own: the output before may not end with one.
        script += &format!("printf '\\n%s\\n' {}\n{command}\n", quoted(&marker));
    }
    script
}

/// The commands of `block`: comments and blank lines dropped, continued lines (`\`) kept
/// together.
fn logical_lines(block: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = without_comment(line).trim_end();
        if line.is_empty() && current.is_empty() {
            continue;
        }
        current += line;
        if current.ends_with('\\') {
            current += "\n";
        } else {
            lines.push(std::mem::take(&mut current));
        }
    }
    assert!(current.is_empty(), "a block ends with a continued line");
    lines
}

/// `line` without its shell comment (a `#` after a space, outside quotes).
fn without_comment(line: &str) -> &str {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => return &line[..i],
            _ => {}
        }
        previous = c;
    }
    line
}

/// A placeholder a reader would fill in: `<…>`, or a word with `…` in it.
fn placeholder_in(line: &str) -> Option<&str> {
    if let Some(i) = line.find('…') {
        let start = line[..i].rfind(char::is_whitespace).map_or(0, |s| s + 1);
        let end = line[i..]
            .find(char::is_whitespace)
            .map_or(line.len(), |e| i + e);
        return Some(&line[start..end]);
    }
    let mut from = 0;
    while let Some(i) = line[from..].find('<').map(|i| from + i) {
        let after = &line[i + 1..];
        if after.starts_with(|c: char| c.is_ascii_alphabetic())
            && let Some(end) = after.find('>')
        {
            return Some(&line[i..i + end + 2]);
        }
        from = i + 1;
    }
    None
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Not a test: the stories' `qr_png` runs this binary for this test alone, to draw a QR code.
#[test]
fn draw_a_qr_code_when_asked() {
    let (Ok(text), Some(out)) = (
        std::env::var("DOJANG_README_QR_TEXT"),
        std::env::var_os("DOJANG_README_QR_PNG"),
    ) else {
        return;
    };
    std::fs::write(out, dojang_core::qr::to_png(&text).unwrap()).unwrap();
}

/// A W3C Data Integrity credential (eddsa-rdfc-2022) issued by the did:key that signs it, as
/// another system would issue a badge.
fn badge_from_a_did_key() -> String {
    use dojang_core::{Algorithm, Did, Jwk, SecretKey};
    use ssi::claims::data_integrity::{
        AnySuite, CryptographicSuite, DataIntegrityDocument, ProofOptions,
    };
    use ssi::dids::{DIDKey, VerificationMethodDIDResolver};
    use ssi::verification_methods::{AnyMethod, SingleSecretSigner};

    let key = SecretKey::generate(Algorithm::EdDsa).unwrap();
    let did = Did::key(key.public_key());
    let jwk: ssi::JWK =
        serde_json::from_value(serde_json::to_value(Jwk::from_secret_key(&key)).unwrap()).unwrap();
    let unsigned = serde_json::json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2"
        ],
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "issuer": did.as_str(),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"alumniOf": "The School of Examples"}
    });
    let method = format!("{did}#{}", did.method_specific_id());
    let options = ProofOptions::from_method(ssi::json_ld::IriBuf::new(method).unwrap().into());
    let document: DataIntegrityDocument = serde_json::from_value(unsigned).unwrap();
    let resolver = VerificationMethodDIDResolver::<DIDKey, AnyMethod>::new(DIDKey);
    let signed = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(AnySuite::EdDsaRdfc2022.sign(
            document,
            &resolver,
            SingleSecretSigner::new(jwk).into_local(),
            options,
        ))
        .unwrap();
    serde_json::to_string(&signed).unwrap()
}

#[test]
fn the_try_it_walkthrough_runs_as_written() {
    let story = Story::run(&[Step::Block(&TRY_IT, 0)], &[]);
    assert!(
        story
            .output("dojang credential verify")
            .contains("ACCEPTED"),
        "{}",
        story.transcript
    );
}

#[test]
fn the_readme_registry_and_issuer_walkthroughs_run_as_written() {
    let _ports = ports();
    // `residents.csv` is the office's own file: the issuing office page's example.
    let residents = csv_example(&ISSUING_OFFICE);
    let story = Story::run(
        &[
            Step::Block(&RUN_THE_REGISTRY, 0),
            Step::Block(&RUN_AN_ISSUER, 0),
            // The revoked credential, as the office lists it.
            Step::Shell("dojang issuer list --issuer seoul --status revoked --json"),
        ],
        &[("residents.csv", &residents)],
    );
    let bundle = std::fs::read_to_string(story.dir().join("bundle.jwt")).unwrap();
    assert_eq!(bundle.split('.').count(), 3, "a compact JWS");
    assert!(story.dir().join("bundle.anchor.json").exists(), "the pin");

    let offer = story.output("curl -s -H \"Authorization: Bearer $TOKEN\"");
    assert!(
        offer.contains("openid-credential-offer://") && offer.contains("tx_code"),
        "{offer}"
    );
    let batch = story.output("dojang issuer batch");
    assert!(batch.contains("1 offered"), "{batch}");
    let revoked = story.output("dojang issuer list --issuer seoul --status revoked");
    assert!(revoked.contains("\"revoked\""), "{revoked}");
}

#[test]
fn the_role_pages_run_as_written() {
    let _ports = ports();
    let citizens = csv_example(&ISSUING_OFFICE);
    let badge = badge_from_a_did_key();
    let story = Story::run(
        &[
            // The registry the README sets up: root.jwk, and the registry running.
            Step::Block(&RUN_THE_REGISTRY, 0),
            Step::Block(&ISSUING_OFFICE, 0),
            Step::Block(&ISSUING_OFFICE, 1),
            Step::Block(&CITIZEN, 0),
            // The office finds a credential once the citizen has received it.
            Step::Block(&ISSUING_OFFICE, 2),
            // The counter the citizen stands at: its challenge and OpenID4VP request.
            Step::Shell("dojang verifier serve --registry http://127.0.0.1:8070"),
            Step::Block(&CITIZEN, 1),
            Step::Block(&VERIFIER, 0),
            Step::Block(&VERIFIER, 1),
            // The policies the last verifier and `up` were started with.
            Step::Shell(
                "curl -s http://127.0.0.1:8090/api/trust\n\
                 eventually curl -sf http://127.0.0.1:8000/readyz\n\
                 curl -s http://127.0.0.1:8000/verifier/api/trust",
            ),
        ],
        &[("citizens.csv", &citizens), ("badge.json", &badge)],
    );
    let out = |line: &str| story.output(line);

    // The issuing office.
    assert!(
        out("dojang issuer batch").contains("1 offered"),
        "{}",
        out("dojang issuer batch")
    );
    let listed = out("dojang issuer list --issuer seoul --offer");
    let credential = listed
        .split("\"id\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{listed}"));
    for query in [
        "dojang issuer list --issuer seoul --card-number SC-2026-000001",
        "dojang issuer list --issuer seoul --type citizen-card --status valid",
    ] {
        assert!(
            out(query).contains(credential) && out(query).contains("valid"),
            "{query}: {}",
            out(query)
        );
    }
    // `--name "김민지" --birth-date 1994-03-15` runs, and finds nothing: the example row names
    // its citizen by card number (`_subject`), and a name is looked up only for rows that give
    // `_subject_name` and `_subject_birth_date` instead.

    // The citizen.
    let listed = out("dojang wallet list");
    assert!(
        listed.contains("Seoul Citizen Card") && listed.contains("valid"),
        "{listed}"
    );
    assert!(
        out("dojang wallet show").contains("card_number"),
        "{}",
        out("dojang wallet show")
    );
    assert!(story.dir().join("qr.png").exists());
    let asked = out("dojang wallet present --openid4vp");
    assert!(
        asked.contains("age_over_19") && asked.contains("nothing sent"),
        "{asked}"
    );
    let history = out("dojang wallet history");
    assert!(
        history.contains("qr_time_window") && history.contains("qr_challenge"),
        "{history}"
    );

    // The counter.
    assert!(
        out("dojang verify qr.png").contains("ACCEPTED"),
        "{}",
        out("dojang verify qr.png")
    );
    let verdict = out("dojang verify 'DJ1:…'");
    assert!(verdict.contains("\"accepted\""), "{verdict}");
    let badge = out("dojang verify badge.json");
    assert!(
        badge.contains("ACCEPTED") && badge.contains("issuer_not_in_registry"),
        "{badge}"
    );
    for trust in [
        "curl -s http://127.0.0.1:8090/api/trust",
        "curl -s http://127.0.0.1:8000/verifier/api/trust",
    ] {
        assert!(
            out(trust).contains("\"issuer_policy\":\"also-key-dids\""),
            "{}",
            out(trust)
        );
    }
}

#[test]
fn the_registry_operators_page_runs_as_written() {
    let _ports = ports();
    let story = Story::run(
        &[
            // The root authority's key, as the README makes it.
            Step::Shell("dojang key generate --alg EdDSA --out root.jwk"),
            Step::Block(&REGISTRY, 0),
            // The witness cosigns the registry's checkpoint.
            Step::Shell(
                "eventually bash -c 'curl -s http://127.0.0.1:8070/checkpoint | grep -q \"^— mois.go.kr/witness \"'\n\
                 curl -s http://127.0.0.1:8070/trust-anchor",
            ),
        ],
        &[],
    );
    let anchor = story.output("curl -s http://127.0.0.1:8070/trust-anchor");
    assert!(
        anchor.contains("\"witnesses\":[\"mois.go.kr/witness+")
            && anchor.contains("\"min_witnesses\":1"),
        "{anchor}"
    );
}

#[test]
fn placeholders_left_in_a_line_are_found() {
    assert_eq!(placeholder_in("dojang wallet show <id>"), Some("<id>"));
    assert_eq!(
        placeholder_in("dojang registry witness --name x --log <log key>"),
        Some("<log key>")
    );
    assert_eq!(
        placeholder_in("dojang verify 'DJ1:…' --json"),
        Some("'DJ1:…'")
    );
    assert_eq!(
        placeholder_in("dojang issuer list --offer 09c564f5-…"),
        Some("09c564f5-…")
    );
    assert_eq!(
        placeholder_in("dojang verify - < shown.txt > verdict.txt"),
        None
    );
    assert_eq!(
        without_comment("dojang up   # the 'whole' platform"),
        "dojang up   "
    );
    assert_eq!(without_comment("echo \"a # b\" x#y"), "echo \"a # b\" x#y");
}
