//! `dojang-schemas`: the credential types dojang issues, as data.
//!
//! Each type is a folder under `schemas/types/<id>/` with four files:
//!
//! - `schema.json`: a JSON Schema (2020-12) for the subject's claims. Issuance validates claims
//!   against it, formats included, and rejects with the JSON Pointer of every failing value.
//! - `descriptor.json`: the [`Descriptor`]: name, SD-JWT VC `vct`, which claims are always
//!   disclosed and which are selectively disclosable, default validity, who may issue it.
//! - `example.json`: a valid claim set, used by tests, benchmarks and the demo.
//! - `metadata.json`: the SD-JWT VC Type Metadata ([`TypeMetadata`]): the type's name and every
//!   claim's label and description in Korean and English, for pages, verdicts, the CLI and
//!   wallets, and served at the type's `vct`.
//!
//! The folders are embedded at build time ([`Catalog::builtin`]); [`Catalog::from_dir`] loads
//! the same layout at run time, so a ministry can add a type without a new build. Adding a type
//! never means editing code in other crates: issuers, wallets and verifiers find it here by id
//! or by `vct`.
//!
//! Every catalog is checked as it loads: schemas compile, every top-level claim is either always
//! disclosed or selectively disclosable (never both, never neither), no claim takes a name the
//! SD-JWT VC profile reserves, and each example validates.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use dojang_core::Lang;
use dojang_core::key::PublicKey;
use dojang_core::sd_jwt::ClaimPath;
use dojang_core::sd_jwt::vc::{REGISTERED, SdJwtVcDraft};
use dojang_core::status::StatusListReference;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

mod display;

pub use display::{ClaimDisplay, ClaimMetadata, ClaimRow, TypeDisplay, TypeMetadata, ValueKind};

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Why a type could not be loaded, or claims were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// No type with this id (or `vct`).
    #[error("unknown credential type `{id}`")]
    UnknownType {
        /// The id asked for.
        id: String,
    },
    /// The claims do not satisfy the type's schema.
    #[error("claims do not match the {type_id} schema: {}", violations_summary(.violations))]
    Invalid {
        /// The type.
        type_id: String,
        /// Every failing value.
        violations: Vec<Violation>,
    },
    /// A type folder is broken (bad JSON, schema does not compile, descriptor inconsistent).
    #[error("credential type `{type_id}` is misconfigured: {reason}")]
    Misconfigured {
        /// The type folder.
        type_id: String,
        /// What is wrong.
        reason: String,
    },
}

/// One failing value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON Pointer to the failing value in the claims (`""` for the whole object); for a
    /// missing required claim, where it should be.
    pub path: String,
    /// The JSON Schema keyword that failed (`format`, `required`, `type`, `enum`, …), so a
    /// form can say in its reader's language what is wrong.
    #[serde(default)]
    pub keyword: String,
    /// What the schema expected. It never repeats the value: claims are personal data, and a
    /// refusal travels further (an error body, a log line, a batch report) than they did.
    pub message: String,
}

/// What `error` says the schema expects, with "the value" where the validator would quote
/// the value it found.
fn expectation(error: &jsonschema::ValidationError<'_>) -> String {
    match error.kind() {
        // The nested error is about a property name, and would quote it.
        jsonschema::error::ValidationErrorKind::PropertyNames { error } => {
            format!("property name: {}", error.masked_with("the name"))
        }
        _ => error.masked_with("the value").to_string(),
    }
}

/// The violations in one line: `path: message` each, `/` for the whole document, `; ` between.
pub fn violations_summary(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            format!(
                "{}: {}",
                if v.path.is_empty() { "/" } else { &v.path },
                v.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An issuer that may issue a type (a default for seeding accreditation in the registry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRef {
    /// Short stable name, e.g. `seoul`.
    pub slug: String,
    /// Display name, `"<Korean> / <English>"` (`서울특별시 / Seoul Metropolitan Government`):
    /// the name it is accredited under, from which each reader is shown one half.
    pub name: String,
}

/// Whether a credential of this type must be bound to a holder key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderBinding {
    /// Every credential carries the holder's key in `cnf`.
    Required,
    /// Bearer credentials are allowed.
    Optional,
}

/// What a type folder's `descriptor.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    /// The type id, equal to its folder name (`citizen-card`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// The SD-JWT VC `vct`.
    pub vct: String,
    /// The VCDM 2.0 type name for the W3C view of the credential.
    pub vcdm_type: String,
    /// Issuers expected to hold accreditation for this type.
    pub issuers: Vec<IssuerRef>,
    /// Top-level claims always visible to a verifier.
    pub always_disclosed: Vec<String>,
    /// Claims (JSON Pointers) the holder chooses to disclose or not.
    pub selectively_disclosable: Vec<String>,
    /// Default validity from issuance, in days; `null` for credentials that do not expire.
    pub default_validity_days: Option<u32>,
    /// Whether holder binding is required.
    pub holder_binding: HolderBinding,
    /// Which claims identify the citizen to the issuing office, so a clerk can find their
    /// credentials later (kept only as keyed hashes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub find_by: Option<FindBy>,
    /// The ISO 18013-5 document type when the type is also issued as an mdoc (`mso_mdoc`);
    /// its elements are the claims, in one namespace of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdoc_doctype: Option<String>,
}

/// The claims (JSON Pointers) that identify a citizen at the counter: a card or document
/// number, and a name with a birth date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindBy {
    /// The card or document number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The name (several pointers are joined by a space: family then given name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<String>,
    /// The birth date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

/// A loaded, validated credential type.
#[derive(Debug)]
pub struct CredentialType {
    descriptor: Descriptor,
    schema: Value,
    example: Map<String, Value>,
    metadata: TypeMetadata,
    disclosable: Vec<ClaimPath>,
    validator: jsonschema::Validator,
}

/// The contents of a type folder's four files.
#[derive(Debug, Clone, Copy)]
pub struct TypeFiles<'a> {
    /// `descriptor.json`.
    pub descriptor: &'a str,
    /// `schema.json`.
    pub schema: &'a str,
    /// `example.json`.
    pub example: &'a str,
    /// `metadata.json`.
    pub metadata: &'a str,
}

impl CredentialType {
    /// Loads a type from the contents of its files.
    pub fn from_json(folder: &str, files: TypeFiles<'_>) -> Result<Self, SchemaError> {
        let TypeFiles {
            descriptor,
            schema,
            example,
            metadata,
        } = files;
        let broken = |reason: String| SchemaError::Misconfigured {
            type_id: folder.to_owned(),
            reason,
        };
        let descriptor: Descriptor = serde_json::from_str(descriptor)
            .map_err(|e| broken(format!("descriptor.json: {e}")))?;
        let schema: Value =
            serde_json::from_str(schema).map_err(|e| broken(format!("schema.json: {e}")))?;
        let example: Map<String, Value> =
            serde_json::from_str(example).map_err(|e| broken(format!("example.json: {e}")))?;
        let metadata: TypeMetadata =
            serde_json::from_str(metadata).map_err(|e| broken(format!("metadata.json: {e}")))?;
        metadata.check(&descriptor.vct, &schema).map_err(broken)?;
        if descriptor.id != folder {
            return Err(broken(format!(
                "descriptor id `{}` differs from the folder name",
                descriptor.id
            )));
        }
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| broken(format!("schema.json does not compile: {e}")))?;
        let disclosable: Vec<ClaimPath> = descriptor
            .selectively_disclosable
            .iter()
            .map(|p| ClaimPath::parse(p))
            .collect();
        let ty = CredentialType {
            descriptor,
            schema,
            example,
            metadata,
            disclosable,
            validator,
        };
        ty.check_consistency().map_err(broken)?;
        ty.validate(&ty.example)
            .map_err(|e| broken(format!("example.json is invalid: {e}")))?;
        Ok(ty)
    }

    /// Every top-level schema property is disclosed one way or the other, and only one.
    fn check_consistency(&self) -> Result<(), String> {
        let properties = self
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or("schema.json has no top-level `properties`")?;
        let always: Vec<ClaimPath> = self
            .descriptor
            .always_disclosed
            .iter()
            .map(|p| ClaimPath::parse(p))
            .collect();
        for name in properties.keys() {
            if REGISTERED.contains(&name.as_str()) {
                return Err(format!("claim `{name}` uses a name reserved by SD-JWT VC"));
            }
            let path = ClaimPath::claim(name);
            match (always.contains(&path), self.disclosable.contains(&path)) {
                (true, true) => {
                    return Err(format!(
                        "claim `{name}` is both always and selectively disclosed"
                    ));
                }
                (false, false) => {
                    return Err(format!(
                        "claim `{name}` is neither always nor selectively disclosed"
                    ));
                }
                _ => {}
            }
        }
        for path in always.iter().chain(&self.disclosable) {
            let first = path
                .tokens()
                .first()
                .map(String::as_str)
                .unwrap_or_default();
            if !properties.contains_key(first) {
                return Err(format!(
                    "descriptor names `{path}`, which the schema does not define"
                ));
            }
        }
        Ok(())
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }

    /// The type id (`citizen-card`).
    pub fn id(&self) -> &str {
        &self.descriptor.id
    }

    /// The JSON Schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// A valid example claim set.
    pub fn example(&self) -> &Map<String, Value> {
        &self.example
    }

    /// The SD-JWT VC Type Metadata: names and labels in Korean and English.
    pub fn metadata(&self) -> &TypeMetadata {
        &self.metadata
    }

    /// The type's name in `lang`.
    pub fn name_in(&self, lang: Lang) -> &str {
        self.metadata
            .display_in(lang)
            .map_or(self.descriptor.name.as_str(), |d| d.name.as_str())
    }

    /// `claims` of this type as labelled rows in `lang`.
    pub fn rows(&self, claims: &Map<String, Value>, lang: Lang) -> Vec<ClaimRow> {
        self.metadata.rows(&self.schema, claims, lang)
    }

    /// The label of the claim at `pointer` (`/address/locality`; array positions are any
    /// number) in `lang`, or its last name when the metadata has none.
    pub fn label(&self, pointer: &str, lang: Lang) -> String {
        let steps: Vec<Option<&str>> = pointer
            .split('/')
            .skip(1)
            .map(|s| (!s.bytes().all(|b| b.is_ascii_digit()) || s.is_empty()).then_some(s))
            .collect();
        self.metadata.label(&steps, lang).map_or_else(
            || pointer.rsplit('/').next().unwrap_or_default().to_owned(),
            str::to_owned,
        )
    }

    /// The top-level claims the holder chooses to show or keep back (`name`, `address`).
    pub fn choosable(&self) -> Vec<String> {
        self.disclosable
            .iter()
            .filter_map(|path| match path.tokens() {
                [name] => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The selectively disclosable claim paths.
    pub fn disclosable(&self) -> &[ClaimPath] {
        &self.disclosable
    }

    /// Validates `claims`, reporting every failing value by JSON Pointer.
    pub fn validate(&self, claims: &Map<String, Value>) -> Result<(), SchemaError> {
        let instance = Value::Object(claims.clone());
        let violations: Vec<Violation> = self
            .validator
            .iter_errors(&instance)
            .map(|e| {
                let mut path = e.instance_path().as_str().to_owned();
                if let jsonschema::error::ValidationErrorKind::Required {
                    property: Value::String(name),
                } = e.kind()
                {
                    path = format!("{path}/{}", name.replace('~', "~0").replace('/', "~1"));
                }
                Violation {
                    path,
                    keyword: e.kind().keyword().to_owned(),
                    message: expectation(&e),
                }
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(SchemaError::Invalid {
                type_id: self.descriptor.id.clone(),
                violations,
            })
        }
    }

    /// Validates `claims` and prepares the SD-JWT VC an issuer signs: this type's `vct`,
    /// disclosure choices and default validity.
    pub fn draft(
        &self,
        claims: Map<String, Value>,
        issuance: Issuance,
    ) -> Result<SdJwtVcDraft, SchemaError> {
        self.validate(&claims)?;
        if self.descriptor.holder_binding == HolderBinding::Required
            && issuance.holder_key.is_none()
        {
            return Err(SchemaError::Invalid {
                type_id: self.descriptor.id.clone(),
                violations: vec![Violation {
                    path: "/cnf".into(),
                    keyword: "required".into(),
                    message: "this credential type must be bound to a holder key".into(),
                }],
            });
        }
        let valid_until = self
            .descriptor
            .default_validity_days
            .map(|days| issuance.issued_at + i64::from(days) * 86_400);
        Ok(SdJwtVcDraft {
            vct: self.descriptor.vct.clone(),
            issuer: issuance.issuer,
            issued_at: issuance.issued_at,
            valid_from: Some(issuance.issued_at),
            valid_until: issuance.valid_until.or(valid_until),
            holder_key: issuance.holder_key,
            status: issuance.status,
            // Optional claims the issuer left out have nothing to conceal.
            disclosable: self
                .disclosable
                .iter()
                .filter(|p| p.resolve(&claims).is_some())
                .cloned()
                .collect(),
            claims,
        })
    }
}

/// The per-credential facts an issuer adds to the claims.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The issuer's identifier (its DID).
    pub issuer: String,
    /// Issuance time, Unix seconds.
    pub issued_at: i64,
    /// Expiry overriding the type's default.
    pub valid_until: Option<i64>,
    /// The holder key to bind to.
    pub holder_key: Option<PublicKey>,
    /// The status list entry.
    pub status: Option<StatusListReference>,
}

/// A set of credential types, by id.
#[derive(Debug)]
pub struct Catalog {
    types: BTreeMap<String, CredentialType>,
}

static BUILTIN_CATALOG: LazyLock<Result<Catalog, SchemaError>> =
    LazyLock::new(|| Catalog::from_files(BUILTIN.iter().copied()));

impl Catalog {
    /// The types embedded at build time from `schemas/types/`.
    ///
    /// # Panics
    /// If an embedded type is broken — a build defect that this crate's tests catch.
    pub fn builtin() -> &'static Catalog {
        match &*BUILTIN_CATALOG {
            Ok(catalog) => catalog,
            Err(e) => panic!("embedded credential types are broken: {e}"),
        }
    }

    fn from_files<'a>(
        files: impl Iterator<Item = (&'a str, TypeFiles<'a>)>,
    ) -> Result<Self, SchemaError> {
        let mut types = BTreeMap::new();
        for (folder, files) in files {
            let ty = CredentialType::from_json(folder, files)?;
            types.insert(folder.to_owned(), ty);
        }
        let mut vcts: Vec<&str> = types.values().map(|t| t.descriptor.vct.as_str()).collect();
        vcts.sort_unstable();
        if let Some(pair) = vcts.windows(2).find(|w| w[0] == w[1]) {
            return Err(SchemaError::Misconfigured {
                type_id: pair[0].to_owned(),
                reason: "two types share this vct".into(),
            });
        }
        Ok(Catalog { types })
    }

    /// Loads every type folder under `dir` (same layout as `schemas/types/`).
    pub fn from_dir(dir: &Path) -> Result<Self, SchemaError> {
        let unreadable = |what: &Path, e: std::io::Error| SchemaError::Misconfigured {
            type_id: what.display().to_string(),
            reason: e.to_string(),
        };
        let mut folders = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| unreadable(dir, e))? {
            let path = entry.map_err(|e| unreadable(dir, e))?.path();
            if !path.join("descriptor.json").is_file() {
                continue;
            }
            let read = |file: &str| {
                std::fs::read_to_string(path.join(file))
                    .map_err(|e| unreadable(&path.join(file), e))
            };
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            folders.push((
                name,
                read("descriptor.json")?,
                read("schema.json")?,
                read("example.json")?,
                read("metadata.json")?,
            ));
        }
        Self::from_files(
            folders
                .iter()
                .map(|(name, descriptor, schema, example, metadata)| {
                    let files = TypeFiles {
                        descriptor,
                        schema,
                        example,
                        metadata,
                    };
                    (name.as_str(), files)
                }),
        )
    }

    /// The type with this id.
    pub fn get(&self, id: &str) -> Result<&CredentialType, SchemaError> {
        self.types
            .get(id)
            .ok_or_else(|| SchemaError::UnknownType { id: id.to_owned() })
    }

    /// The type with this `vct`.
    pub fn by_vct(&self, vct: &str) -> Result<&CredentialType, SchemaError> {
        self.types
            .values()
            .find(|t| t.descriptor.vct == vct)
            .ok_or_else(|| SchemaError::UnknownType { id: vct.to_owned() })
    }

    /// The type issued as the mdoc document type `doc_type`.
    pub fn by_mdoc_doctype(&self, doc_type: &str) -> Result<&CredentialType, SchemaError> {
        self.types
            .values()
            .find(|t| t.descriptor.mdoc_doctype.as_deref() == Some(doc_type))
            .ok_or_else(|| SchemaError::UnknownType {
                id: doc_type.to_owned(),
            })
    }

    /// All types, by id.
    pub fn iter(&self) -> impl Iterator<Item = &CredentialType> {
        self.types.values()
    }
}
