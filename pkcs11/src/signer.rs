//! A [`Signer`] whose key stays on a PKCS#11 token.
//!
//! The module is loaded and initialised once per process. Sessions are pooled; a session that
//! failed is dropped, never returned, and the operation is tried once more on a fresh session
//! (found again by token label, logged in again), so a token that was re-plugged, or whose
//! sessions were closed, serves again without a restart. A token that stays away is a typed
//! error the caller refuses its write on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use dojang_core::key::{Algorithm, PublicKey, SignError, Signer};
use zeroize::Zeroizing;

use crate::uri::KeyUri;

/// DER of the P-256 curve's OID (`CKA_EC_PARAMS`).
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the Ed25519 OID (1.3.101.112).
const ED25519_PARAMS: [u8; 5] = [0x06, 0x03, 0x2B, 0x65, 0x70];
/// Sessions kept open per key.
const POOL: usize = 8;

/// Why a token could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// No module named by the URI or `DOJANG_PKCS11_MODULE`.
    #[error(
        "PKCS#11 모듈이 지정되지 않았습니다 / no PKCS#11 module: add ?module-path=<library> to \
         the key URI, or set DOJANG_PKCS11_MODULE"
    )]
    NoModule,
    /// The module could not be loaded or initialised.
    #[error(
        "PKCS#11 모듈을 불러올 수 없습니다 / the PKCS#11 module {path} could not be loaded: {source}"
    )]
    Module {
        /// The library.
        path: PathBuf,
        /// Why.
        #[source]
        source: CkError,
    },
    /// No PIN from the URI's `pin-source`, `DOJANG_PKCS11_PIN` or `DOJANG_PKCS11_PIN_FILE`.
    #[error(
        "토큰 PIN이 없습니다 / no PIN for the token: set DOJANG_PKCS11_PIN or \
         DOJANG_PKCS11_PIN_FILE, or add pin-source=file:<path> to the key URI"
    )]
    NoPin,
    /// The PIN file could not be read.
    #[error("PIN 파일을 읽을 수 없습니다 / the PIN file {path} could not be read: {source}")]
    PinFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No token with the URI's label (and serial) is present.
    #[error(
        "토큰 `{0}`이(가) 연결되어 있지 않습니다 / token `{0}` is not present (unplugged, or another label)"
    )]
    TokenAbsent(String),
    /// The token has no such key, or more than one.
    #[error(
        "{0}: 토큰에 그 키가 없거나 여러 개입니다 / no such key on the token, or more than one"
    )]
    NoKey(String),
    /// The key is of a kind dojang does not sign with.
    #[error("{0}: P-256이나 Ed25519 키가 아닙니다 / not a P-256 or Ed25519 key")]
    UnsupportedKey(String),
    /// A key with that label already exists (generation would make a second one).
    #[error(
        "{0}: 같은 이름의 키가 이미 토큰에 있습니다 / a key with this label is already on the token"
    )]
    Exists(String),
    /// The token refused or failed an operation.
    #[error("토큰이 작업을 거부하거나 실패했습니다 / the token failed: {0}")]
    Token(#[from] CkError),
}

/// Loaded modules, one context each (C_Initialize once per process).
static MODULES: LazyLock<Mutex<HashMap<PathBuf, Pkcs11>>> = LazyLock::new(Mutex::default);

fn module(uri: &KeyUri) -> Result<Pkcs11, Pkcs11Error> {
    let path = uri
        .module_path
        .clone()
        .or_else(|| std::env::var_os("DOJANG_PKCS11_MODULE").map(PathBuf::from))
        .ok_or(Pkcs11Error::NoModule)?;
    let mut modules = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(loaded) = modules.get(&path) {
        return Ok(loaded.clone());
    }
    let failed = |source| Pkcs11Error::Module {
        path: path.clone(),
        source,
    };
    let loaded = Pkcs11::new(&path).map_err(failed)?;
    match loaded.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(failed(e)),
    }
    modules.insert(path, loaded.clone());
    Ok(loaded)
}

/// The user PIN: from the URI's `pin-source` file, else `DOJANG_PKCS11_PIN`, else the file
/// `DOJANG_PKCS11_PIN_FILE` names. A file's trailing newline is not part of the PIN.
fn pin(uri: &KeyUri) -> Result<AuthPin, Pkcs11Error> {
    let from_file = |path: &Path| {
        std::fs::read_to_string(path)
            .map(|text| Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned()))
            .map_err(|source| Pkcs11Error::PinFile {
                path: path.to_owned(),
                source,
            })
    };
    let pin = match (&uri.pin_source, std::env::var("DOJANG_PKCS11_PIN")) {
        (Some(path), _) => from_file(path)?,
        (None, Ok(pin)) => Zeroizing::new(pin),
        (None, Err(_)) => match std::env::var_os("DOJANG_PKCS11_PIN_FILE") {
            Some(path) => from_file(Path::new(&path))?,
            None => return Err(Pkcs11Error::NoPin),
        },
    };
    Ok(AuthPin::new(pin.as_str().into()))
}

/// A signing key on a token.
pub struct Pkcs11Signer {
    module: Pkcs11,
    uri: KeyUri,
    pin: AuthPin,
    public: PublicKey,
    /// Open, logged-in sessions not in use, each with the private key's handle in it.
    pool: Mutex<Vec<(Session, ObjectHandle)>>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("uri", &self.uri.to_string())
            .field("algorithm", &self.public.algorithm())
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Opens the key `uri` names: its public key is read from the token, the private key
    /// never leaves it.
    pub fn open(uri: &KeyUri) -> Result<Self, Pkcs11Error> {
        let module = module(uri)?;
        let pin = pin(uri)?;
        let session = login(&module, uri, &pin)?;
        let public = read_public_key(&session, uri)?;
        let key = object(&session, uri, ObjectClass::PRIVATE_KEY)?;
        Ok(Pkcs11Signer {
            module,
            uri: uri.clone(),
            pin,
            public,
            pool: Mutex::new(vec![(session, key)]),
        })
    }

    /// Makes a new non-extractable key of `alg` on the token, labelled as `uri` names it, and
    /// opens it. A label already taken is refused.
    pub fn generate(uri: &KeyUri, alg: Algorithm) -> Result<Self, Pkcs11Error> {
        let module = module(uri)?;
        let pin = pin(uri)?;
        let session = login(&module, uri, &pin)?;
        let label = uri
            .object
            .clone()
            .ok_or_else(|| Pkcs11Error::NoKey(uri.to_string()))?;
        if !session
            .find_objects(&[Attribute::Label(label.clone().into_bytes())])?
            .is_empty()
        {
            return Err(Pkcs11Error::Exists(uri.to_string()));
        }
        let (mechanism, key_type, params) = match alg {
            Algorithm::Es256 => (Mechanism::EccKeyPairGen, KeyType::EC, P256_PARAMS.to_vec()),
            Algorithm::EdDsa => (
                Mechanism::EccEdwardsKeyPairGen,
                KeyType::EC_EDWARDS,
                ED25519_PARAMS.to_vec(),
            ),
        };
        let mut named = vec![Attribute::Token(true), Attribute::Label(label.into_bytes())];
        if let Some(id) = &uri.id {
            named.push(Attribute::Id(id.clone()));
        }
        let public = [
            named.clone(),
            vec![
                Attribute::KeyType(key_type),
                Attribute::EcParams(params),
                Attribute::Verify(true),
            ],
        ]
        .concat();
        let private = [
            named,
            vec![
                Attribute::KeyType(key_type),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
            ],
        ]
        .concat();
        session.generate_key_pair(&mechanism, &public, &private)?;
        drop(session);
        Pkcs11Signer::open(uri)
    }

    /// Opens the key `uri` names, first making it (as [`Pkcs11Signer::generate`]) if the token
    /// has none under that label: how a service takes its key on its first start.
    pub fn open_or_generate(uri: &KeyUri, alg: Algorithm) -> Result<Self, Pkcs11Error> {
        match Pkcs11Signer::open(uri) {
            Err(Pkcs11Error::NoKey(_)) => Pkcs11Signer::generate(uri, alg),
            opened => opened,
        }
    }

    /// The key's URI.
    pub fn uri(&self) -> &KeyUri {
        &self.uri
    }

    /// A logged-in session and the private key's handle in it: from the pool, else new.
    fn session(&self) -> Result<(Session, ObjectHandle), Pkcs11Error> {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(pooled) => Ok(pooled),
            None => {
                let session = login(&self.module, &self.uri, &self.pin)?;
                let key = object(&session, &self.uri, ObjectClass::PRIVATE_KEY)?;
                Ok((session, key))
            }
        }
    }

    fn give_back(&self, pooled: (Session, ObjectHandle)) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < POOL {
            pool.push(pooled);
        }
    }

    /// One signature with `key` on `session`.
    fn sign_on(
        &self,
        session: &Session,
        key: ObjectHandle,
        message: &[u8],
    ) -> Result<Vec<u8>, Pkcs11Error> {
        Ok(match self.public.algorithm() {
            // CKM_ECDSA signs a digest and returns r‖s, the JOSE/COSE form.
            Algorithm::Es256 => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
                session.sign(&Mechanism::Ecdsa, key, digest.as_ref())?
            }
            Algorithm::EdDsa => session.sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                key,
                message,
            )?,
        })
    }
}

/// The template that finds `uri`'s object of `class`.
fn template(uri: &KeyUri, class: ObjectClass) -> Vec<Attribute> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(object) = &uri.object {
        template.push(Attribute::Label(object.clone().into_bytes()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    template
}

/// The one object of `class` `uri` names.
fn object(
    session: &Session,
    uri: &KeyUri,
    class: ObjectClass,
) -> Result<ObjectHandle, Pkcs11Error> {
    match session.find_objects(&template(uri, class))?[..] {
        [one] => Ok(one),
        _ => Err(Pkcs11Error::NoKey(uri.to_string())),
    }
}

/// The public key of `uri`, read from the token.
fn read_public_key(session: &Session, uri: &KeyUri) -> Result<PublicKey, Pkcs11Error> {
    let handle = object(session, uri, ObjectClass::PUBLIC_KEY)?;
    let unsupported = || Pkcs11Error::UnsupportedKey(uri.to_string());
    let mut params = None;
    let mut point = None;
    for attribute in
        session.get_attributes(handle, &[AttributeType::EcParams, AttributeType::EcPoint])?
    {
        match attribute {
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let (params, point) = params.zip(point).ok_or_else(unsupported)?;
    // CKA_EC_POINT is the point in a DER OCTET STRING; some tokens give it bare.
    let bare = |len: usize| match point.as_slice() {
        [0x04, l, rest @ ..] if usize::from(*l) == len && rest.len() == len => rest.to_vec(),
        _ => point.clone(),
    };
    if params == P256_PARAMS {
        PublicKey::p256_from_sec1(&bare(65)).map_err(|_| unsupported())
    } else if params == ED25519_PARAMS || params.ends_with(b"edwards25519") {
        PublicKey::ed25519(&bare(32)).map_err(|_| unsupported())
    } else {
        Err(unsupported())
    }
}

/// A new read-write session on the token `uri` names, logged in as the user.
fn login(module: &Pkcs11, uri: &KeyUri, pin: &AuthPin) -> Result<Session, Pkcs11Error> {
    let slot = slot(module, uri)?;
    let session = module.open_rw_session(slot)?;
    match session.login(UserType::User, Some(pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(e.into()),
    }
}

/// The module's slots — all of them, or those holding a token — listed by one thread of the
/// process at a time: SoftHSM2 rescans its token directory on every slot list, and two rescans
/// that find the same new token at once abort the process (`SlotManager::insertToken`).
pub fn slots(module: &Pkcs11, with_token: bool) -> Result<Vec<Slot>, CkError> {
    static LISTING: Mutex<()> = Mutex::new(());
    let _one = LISTING.lock().unwrap_or_else(|e| e.into_inner());
    match with_token {
        true => module.get_slots_with_token(),
        false => module.get_all_slots(),
    }
}

/// The slot holding the token `uri` names.
fn slot(module: &Pkcs11, uri: &KeyUri) -> Result<Slot, Pkcs11Error> {
    for slot in slots(module, true)? {
        let Ok(info) = module.get_token_info(slot) else {
            continue;
        };
        let serial_matches = uri
            .serial
            .as_deref()
            .is_none_or(|serial| info.serial_number().trim() == serial);
        if info.label().trim() == uri.token && serial_matches {
            return Ok(slot);
        }
    }
    Err(Pkcs11Error::TokenAbsent(uri.token.clone()))
}

impl Signer for Pkcs11Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs on a pooled session; a session that fails is dropped and the signature tried once
    /// more on a fresh one (the token may have been re-plugged or its sessions closed).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut last = None;
        for _ in 0..2 {
            let attempt = self.session().and_then(|(session, key)| {
                self.sign_on(&session, key, message)
                    .map(|signature| ((session, key), signature))
            });
            match attempt {
                Ok((pooled, signature)) => {
                    self.give_back(pooled);
                    return Ok(signature);
                }
                Err(e) => {
                    tracing::warn!(key = %self.uri, error = %e, "PKCS#11 signing failed");
                    last = Some(e);
                }
            }
        }
        Err(SignError::Backend(Box::new(last.unwrap_or(
            Pkcs11Error::TokenAbsent(self.uri.token.clone()),
        ))))
    }
}
