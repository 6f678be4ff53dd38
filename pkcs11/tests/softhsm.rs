//! The PKCS#11 signer against SoftHSM2 (Debian `softhsm2`, installed by `.ci/services`): keys
//! made on a token sign for dojang and never leave it; a token whose sessions were lost serves
//! again; every refusal is typed. Without SoftHSM2 the test says it skipped — except under `CI`,
//! where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use dojang_core::key::{Algorithm, Signer, Verifier as _};
use dojang_pkcs11::{KeyUri, Pkcs11Error, Pkcs11Signer};

const SO_PIN: &str = "so-pin-1234";
const USER_PIN: &str = "user-pin-5678";

/// SoftHSM2's module, configured on a token directory of this test run: the module's path, the
/// test's own context (kept for the process: C_Finalize would end everyone's) and the PIN file.
struct Hsm {
    module: PathBuf,
    context: Pkcs11,
    pin_file: PathBuf,
    _dir: tempfile::TempDir,
}

fn hsm() -> Option<&'static Hsm> {
    static HSM: OnceLock<Option<Hsm>> = OnceLock::new();
    HSM.get_or_init(|| {
        let module = std::env::var_os("DOJANG_PKCS11_MODULE")
            .map(PathBuf::from)
            .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into());
        if !module.exists() {
            return None;
        }
        // Tokens go where SOFTHSM2_CONF says (`.ci/services` points it into target/), else in
        // SoftHSM2's default directory; each test makes its own, under a fresh label.
        let dir = tempfile::tempdir().unwrap();
        let pin_file = dir.path().join("pin");
        std::fs::write(&pin_file, format!("{USER_PIN}\n")).unwrap();
        let context = Pkcs11::new(&module).unwrap();
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .unwrap();
        Some(Hsm {
            module,
            context,
            pin_file,
            _dir: dir,
        })
    })
    .as_ref()
}

/// SoftHSM2, or `None` after saying the test skipped.
fn softhsm() -> Option<&'static Hsm> {
    let hsm = hsm();
    if hsm.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PKCS#11 tests: install softhsm2"
        );
        println!("skipped: SoftHSM2 is not installed (apt-get install softhsm2)");
    }
    hsm
}

impl Hsm {
    /// A fresh token labelled `<purpose>-<random>` with the user PIN set: its label.
    fn token(&self, purpose: &str) -> String {
        let mut random = [0u8; 4];
        aws_lc_rs::rand::fill(&mut random).unwrap();
        let label = format!(
            "{purpose}-{}",
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        // One token at a time: SoftHSM2 keeps one free slot, and offers the next once it is taken.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let slot = self
            .context
            .get_all_slots()
            .unwrap()
            .into_iter()
            .find(|slot| {
                self.context
                    .get_token_info(*slot)
                    .is_ok_and(|info| !info.token_initialized())
            })
            .unwrap();
        let so = AuthPin::new(SO_PIN.into());
        self.context.init_token(slot, &so, &label).unwrap();
        let session = self.context.open_rw_session(slot).unwrap();
        session.login(UserType::So, Some(&so)).unwrap();
        session.init_pin(&AuthPin::new(USER_PIN.into())).unwrap();
        label
    }

    /// The URI of key `object` on `token`, with the module and the PIN file.
    fn uri(&self, token: &str, object: &str) -> KeyUri {
        format!(
            "pkcs11:token={token};object={object}?module-path={}&pin-source=file:{}",
            self.module.display(),
            self.pin_file.display()
        )
        .parse()
        .unwrap()
    }

    /// A logged-in session of the test's own on `token`.
    fn session(&self, token: &str) -> cryptoki::session::Session {
        let slot = self
            .context
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|s| self.context.get_token_info(*s).unwrap().label().trim() == token)
            .unwrap();
        let session = self.context.open_rw_session(slot).unwrap();
        let _ = session.login(UserType::User, Some(&AuthPin::new(USER_PIN.into())));
        session
    }
}

fn signs_and_verifies(signer: &Pkcs11Signer) {
    let message = b"status list version 7";
    let signature = signer.sign(message).unwrap();
    signer.public_key().verify(message, &signature).unwrap();
    assert!(
        signer
            .public_key()
            .verify(b"another message", &signature)
            .is_err()
    );
}

#[test]
fn keys_made_on_the_token_sign_for_dojang_and_never_leave_it() {
    let Some(hsm) = softhsm() else { return };
    let token = hsm.token("issuers");
    for (alg, object) in [(Algorithm::Es256, "seoul-1"), (Algorithm::EdDsa, "busan-1")] {
        let uri = hsm.uri(&token, object);
        let made = Pkcs11Signer::generate(&uri, alg).unwrap();
        assert_eq!(made.algorithm(), alg);
        signs_and_verifies(&made);
        // Opened again (another process, a restart): the same public key, read from the token.
        let opened = Pkcs11Signer::open(&uri).unwrap();
        assert_eq!(opened.public_key(), made.public_key());
        signs_and_verifies(&opened);
        if alg == Algorithm::Es256 {
            assert_eq!(opened.sign(b"x").unwrap().len(), 64, "r‖s, not DER");
        }

        // The private key is sensitive and was never extractable; its value cannot be read.
        let session = hsm.session(&token);
        let [private] = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(object.as_bytes().to_vec()),
            ])
            .unwrap()[..]
        else {
            panic!("one private key")
        };
        let attributes = session
            .get_attributes(
                private,
                &[
                    AttributeType::Extractable,
                    AttributeType::Sensitive,
                    AttributeType::NeverExtractable,
                ],
            )
            .unwrap();
        assert!(
            attributes.contains(&Attribute::Extractable(false)),
            "{attributes:?}"
        );
        assert!(
            attributes.contains(&Attribute::Sensitive(true)),
            "{attributes:?}"
        );
        assert!(
            attributes.contains(&Attribute::NeverExtractable(true)),
            "{attributes:?}"
        );
        let value = session
            .get_attributes(private, &[AttributeType::Value])
            .unwrap();
        assert!(
            !value.iter().any(|a| matches!(a, Attribute::Value(_))),
            "the key's value is not readable: {value:?}"
        );

        // A second key under the same label is refused.
        assert!(matches!(
            Pkcs11Signer::generate(&uri, alg),
            Err(Pkcs11Error::Exists(_))
        ));
    }
}

#[test]
fn a_token_that_lost_its_sessions_serves_again_and_refusals_are_typed() {
    let Some(hsm) = softhsm() else { return };
    let token = hsm.token("registry");
    let uri = hsm.uri(&token, "log-key");
    // A wrong PIN (checked before anyone logs in: PKCS#11 logins are per process and token).
    let wrong_pin = hsm.pin_file.with_file_name("wrong-pin");
    std::fs::write(&wrong_pin, "0000").unwrap();
    let mut wrong = uri.clone();
    wrong.pin_source = Some(wrong_pin);
    let error = Pkcs11Signer::generate(&wrong, Algorithm::Es256).unwrap_err();
    assert!(matches!(error, Pkcs11Error::Token(_)), "{error}");
    assert!(!error.to_string().contains("0000"), "{error}");
    let signer = Pkcs11Signer::generate(&uri, Algorithm::Es256).unwrap();
    signs_and_verifies(&signer);
    // Everyone is logged out of the token (as after a re-plug): the pooled session can no
    // longer use the key; the signer logs in on a fresh session and signs.
    hsm.session(&token).logout().unwrap();
    signs_and_verifies(&signer);

    // No such token, no such key, no PIN, no module: each its own error.
    assert!(matches!(
        Pkcs11Signer::open(&hsm.uri("elsewhere", "log-key")),
        Err(Pkcs11Error::TokenAbsent(label)) if label == "elsewhere"
    ));
    assert!(matches!(
        Pkcs11Signer::open(&hsm.uri(&token, "nope")),
        Err(Pkcs11Error::NoKey(_))
    ));
    let mut no_pin = uri.clone();
    no_pin.pin_source = None;
    if std::env::var_os("DOJANG_PKCS11_PIN").is_none()
        && std::env::var_os("DOJANG_PKCS11_PIN_FILE").is_none()
    {
        assert!(matches!(
            Pkcs11Signer::open(&no_pin),
            Err(Pkcs11Error::NoPin)
        ));
    }
    let mut missing_file = uri.clone();
    missing_file.pin_source = Some(Path::new("/nonexistent/pin").to_owned());
    assert!(matches!(
        Pkcs11Signer::open(&missing_file),
        Err(Pkcs11Error::PinFile { .. })
    ));
    let mut no_module = uri;
    no_module.module_path = Some("/nonexistent/libpkcs11.so".into());
    assert!(matches!(
        Pkcs11Signer::open(&no_module),
        Err(Pkcs11Error::Module { .. })
    ));
}
