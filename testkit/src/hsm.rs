//! SoftHSM2 for the PKCS#11 tests: the module, a fresh token per test under a random label, key
//! URIs with a PIN file. Tokens go where `SOFTHSM2_CONF` says (`.ci/services` points it into
//! `target/softhsm`), else into SoftHSM2's default directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use dojang_pkcs11::KeyUri;

/// The tokens' security officer PIN.
pub const SO_PIN: &str = "so-pin-1234";
/// The tokens' user PIN (in [`Hsm::pin_file`]).
pub const USER_PIN: &str = "user-pin-5678";

/// SoftHSM2's module, a context of the test's own (kept for the process: C_Finalize would end
/// every other user's) and a file holding the user PIN.
pub struct Hsm {
    /// The module's path.
    pub module: PathBuf,
    /// The test's own context.
    pub context: Pkcs11,
    /// A file holding [`USER_PIN`].
    pub pin_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// SoftHSM2, or `None` after saying the test skipped (refused under `CI`, which installs it).
pub fn softhsm() -> Option<&'static Hsm> {
    static HSM: OnceLock<Option<Hsm>> = OnceLock::new();
    let hsm = HSM
        .get_or_init(|| {
            let module = std::env::var_os("DOJANG_PKCS11_MODULE")
                .map(PathBuf::from)
                .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into());
            if !module.exists() {
                return None;
            }
            let dir = tempfile::tempdir().unwrap();
            let pin_file = dir.path().join("pin");
            std::fs::write(&pin_file, format!("{USER_PIN}\n")).unwrap();
            let context = Pkcs11::new(&module).unwrap();
            match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
                Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
                Err(e) => panic!("SoftHSM2 does not initialise: {e}"),
            }
            Some(Hsm {
                module,
                context,
                pin_file,
                _dir: dir,
            })
        })
        .as_ref();
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
    pub fn token(&self, purpose: &str) -> String {
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
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let slot = dojang_pkcs11::slots(&self.context, false)
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

    /// The URI of `token`, with the module and the PIN file.
    pub fn token_uri(&self, token: &str) -> KeyUri {
        KeyUri::token(&format!(
            "pkcs11:token={token}?module-path={}&pin-source=file:{}",
            self.module.display(),
            self.pin_file.display()
        ))
        .unwrap()
    }

    /// The URI of key `object` on `token`, with the module and the PIN file.
    pub fn uri(&self, token: &str, object: &str) -> KeyUri {
        self.token_uri(token).object(object)
    }

    /// Sets `token`'s user PIN as its security officer: with another PIN, every user session
    /// is gone and no login with the old one succeeds — to the service, the token is away.
    pub fn set_user_pin(&self, token: &str, pin: &str) {
        let session = self.session(token);
        let _ = session.logout();
        session
            .login(UserType::So, Some(&AuthPin::new(SO_PIN.into())))
            .unwrap();
        session.init_pin(&AuthPin::new(pin.into())).unwrap();
        session.logout().unwrap();
    }

    /// A logged-in session of the test's own on `token`.
    pub fn session(&self, token: &str) -> Session {
        let slot = dojang_pkcs11::slots(&self.context, true)
            .unwrap()
            .into_iter()
            .find(|s| self.context.get_token_info(*s).unwrap().label().trim() == token)
            .unwrap();
        let session = self.context.open_rw_session(slot).unwrap();
        let _ = session.login(UserType::User, Some(&AuthPin::new(USER_PIN.into())));
        session
    }

    /// Checks that the private key `label` on `token` stays there: sensitive, not extractable
    /// and never was, its value unreadable. Says what is wrong otherwise.
    pub fn key_stays_on_token(&self, token: &str, label: &str) -> Result<(), String> {
        let session = self.session(token);
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .map_err(|e| e.to_string())?;
        let [private] = found[..] else {
            return Err(format!("{} private keys labelled {label}", found.len()));
        };
        let attributes = session
            .get_attributes(
                private,
                &[
                    AttributeType::Extractable,
                    AttributeType::Sensitive,
                    AttributeType::NeverExtractable,
                    AttributeType::Value,
                ],
            )
            .map_err(|e| e.to_string())?;
        let kept = [
            Attribute::Extractable(false),
            Attribute::Sensitive(true),
            Attribute::NeverExtractable(true),
        ]
        .iter()
        .all(|a| attributes.contains(a))
            && !attributes.iter().any(|a| matches!(a, Attribute::Value(_)));
        match kept {
            true => Ok(()),
            false => Err(format!("the key can leave the token: {attributes:?}")),
        }
    }
}
