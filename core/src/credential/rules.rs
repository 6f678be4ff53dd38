//! The rules of VCDM 2.0 that dojang enforces, each with a stable id and a message in Korean
//! and English.
//!
//! One [`Rule`] per normative MUST (or per group of MUSTs a verifier cannot tell apart), named
//! after the section that states it. The ids (`vcdm2.…`) are a stable API like the verdict's
//! reason codes: the CLI prints them, tests and logs key on them. Most rules are checked on the
//! JSON alone, here in `core`; the three marked [`Rule::needs_json_ld`] need JSON-LD expansion
//! and are checked by `dojang_verifier::di` (see `docs/credential-model.md`).

/// A normative rule of the W3C Verifiable Credentials Data Model 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// §6.1.2: a credential or presentation is a JSON object (a compacted JSON-LD document).
    DocumentObject,
    /// §4.3: credentials and presentations include `@context`.
    ContextPresent,
    /// §4.3: the first `@context` item is `https://www.w3.org/ns/credentials/v2`.
    ContextBaseFirst,
    /// §4.3: every further `@context` item is a URL or an object.
    ContextItems,
    /// §4.3, B.1: every context is processable as a JSON-LD context (JSON-LD).
    ContextProcessable,
    /// §4.3, §5.2.1: every term used maps to a URL under the contexts (JSON-LD).
    TermsDefined,
    /// B.1: the document expands as JSON-LD without error (JSON-LD).
    JsonLdExpansion,
    /// §4.4, §6: an `id` is a single value.
    IdSingle,
    /// §4.4: an `id` is a URL.
    IdUrl,
    /// §4.5: credentials and presentations have a `type` with a value.
    TypePresent,
    /// §4.5: every `type` value is a term or an absolute URL string.
    TypeValues,
    /// §4.5, §4.13: `type` includes `VerifiableCredential` (credentials) or
    /// `VerifiablePresentation` (presentations).
    TypeBase,
    /// §4.6: `name` and `description` are strings or language value objects.
    NameDescription,
    /// §11.1: a language value object has a string `@value` and nothing but `@value`,
    /// `@language` and `@direction`.
    LanguageValue,
    /// §4.7: a credential has an `issuer`.
    IssuerPresent,
    /// §4.7: `issuer` is a URL or an object whose `id` is a URL.
    IssuerUrl,
    /// §4.8: a credential has a `credentialSubject`.
    CredentialSubjectPresent,
    /// §4.8: every `credentialSubject` value is an object that makes at least one claim.
    CredentialSubjectNonEmpty,
    /// §4.9: `validFrom` is an XML Schema `dateTimeStamp`.
    ValidFromDateTime,
    /// §4.9: `validUntil` is an XML Schema `dateTimeStamp`.
    ValidUntilDateTime,
    /// §4.9: `validFrom` is not later than `validUntil`.
    ValidityOrder,
    /// §4.10, §4.5: every `credentialStatus` value is an object with a `type`.
    CredentialStatusType,
    /// §4.11: every `credentialSchema` value is an object with a `type`.
    CredentialSchemaType,
    /// §4.11: every `credentialSchema` has an `id` that is a URL.
    CredentialSchemaId,
    /// §4.13: `holder` is a URL or an object whose `id` is a URL.
    HolderUrl,
    /// §4.13: `verifiableCredential` values are objects, never strings, numbers or URLs.
    VerifiableCredentialObject,
    /// §4.13: every `verifiableCredential` value is a verifiable credential or an
    /// `EnvelopedVerifiableCredential`.
    VerifiableCredentialType,
    /// §4.13.4: a credential secured only by the presentation's proof is self-asserted, so the
    /// presentation has a `holder`, and it is the credential's issuer.
    SelfAssertedHolder,
    /// §4.13.1, §4.13.2: an enveloped credential or presentation has an `@context` that
    /// includes the base context.
    EnvelopedContext,
    /// §4.13.1, §4.13.2: an enveloped credential or presentation's `id` is a `data:` URL.
    EnvelopedId,
    /// §5.3: every `relatedResource` has a unique URL `id` and a `digestSRI` or
    /// `digestMultibase`.
    RelatedResource,
    /// §5.4, §4.5: every `refreshService` value is an object with a `type`.
    RefreshServiceType,
    /// §5.5, §4.5: every `termsOfUse` value is an object with a `type`.
    TermsOfUseType,
    /// §5.6, §4.5: every `evidence` value is an object with a `type`.
    EvidenceType,
    /// §5.10: every `confidenceMethod` and `renderMethod` value is an object with a `type`.
    ReservedExtensionType,
}

impl Rule {
    /// Every rule, in the order a document is checked.
    pub const ALL: [Rule; 35] = [
        Rule::DocumentObject,
        Rule::ContextPresent,
        Rule::ContextBaseFirst,
        Rule::ContextItems,
        Rule::ContextProcessable,
        Rule::TermsDefined,
        Rule::JsonLdExpansion,
        Rule::IdSingle,
        Rule::IdUrl,
        Rule::TypePresent,
        Rule::TypeValues,
        Rule::TypeBase,
        Rule::NameDescription,
        Rule::LanguageValue,
        Rule::IssuerPresent,
        Rule::IssuerUrl,
        Rule::CredentialSubjectPresent,
        Rule::CredentialSubjectNonEmpty,
        Rule::ValidFromDateTime,
        Rule::ValidUntilDateTime,
        Rule::ValidityOrder,
        Rule::CredentialStatusType,
        Rule::CredentialSchemaType,
        Rule::CredentialSchemaId,
        Rule::HolderUrl,
        Rule::VerifiableCredentialObject,
        Rule::VerifiableCredentialType,
        Rule::SelfAssertedHolder,
        Rule::EnvelopedContext,
        Rule::EnvelopedId,
        Rule::RelatedResource,
        Rule::RefreshServiceType,
        Rule::TermsOfUseType,
        Rule::EvidenceType,
        Rule::ReservedExtensionType,
    ];

    /// The stable id, `vcdm2.<name>`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::DocumentObject => "vcdm2.document-object",
            Rule::ContextPresent => "vcdm2.context-present",
            Rule::ContextBaseFirst => "vcdm2.context-base-first",
            Rule::ContextItems => "vcdm2.context-items",
            Rule::ContextProcessable => "vcdm2.context-processable",
            Rule::TermsDefined => "vcdm2.terms-defined",
            Rule::JsonLdExpansion => "vcdm2.json-ld-expansion",
            Rule::IdSingle => "vcdm2.id-single",
            Rule::IdUrl => "vcdm2.id-url",
            Rule::TypePresent => "vcdm2.type-present",
            Rule::TypeValues => "vcdm2.type-values",
            Rule::TypeBase => "vcdm2.type-base",
            Rule::NameDescription => "vcdm2.name-description",
            Rule::LanguageValue => "vcdm2.language-value",
            Rule::IssuerPresent => "vcdm2.issuer-present",
            Rule::IssuerUrl => "vcdm2.issuer-url",
            Rule::CredentialSubjectPresent => "vcdm2.credential-subject-present",
            Rule::CredentialSubjectNonEmpty => "vcdm2.credential-subject-non-empty",
            Rule::ValidFromDateTime => "vcdm2.valid-from-datetime",
            Rule::ValidUntilDateTime => "vcdm2.valid-until-datetime",
            Rule::ValidityOrder => "vcdm2.validity-order",
            Rule::CredentialStatusType => "vcdm2.credential-status-type",
            Rule::CredentialSchemaType => "vcdm2.credential-schema-type",
            Rule::CredentialSchemaId => "vcdm2.credential-schema-id",
            Rule::HolderUrl => "vcdm2.holder-url",
            Rule::VerifiableCredentialObject => "vcdm2.verifiable-credential-object",
            Rule::VerifiableCredentialType => "vcdm2.verifiable-credential-type",
            Rule::SelfAssertedHolder => "vcdm2.self-asserted-holder",
            Rule::EnvelopedContext => "vcdm2.enveloped-context",
            Rule::EnvelopedId => "vcdm2.enveloped-id",
            Rule::RelatedResource => "vcdm2.related-resource",
            Rule::RefreshServiceType => "vcdm2.refresh-service-type",
            Rule::TermsOfUseType => "vcdm2.terms-of-use-type",
            Rule::EvidenceType => "vcdm2.evidence-type",
            Rule::ReservedExtensionType => "vcdm2.reserved-extension-type",
        }
    }

    /// The rule whose [`id`](Self::id) is `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.id() == id)
    }

    /// The section of VCDM 2.0 (W3C Recommendation, 15 May 2025) that states the rule.
    pub fn section(self) -> &'static str {
        match self {
            Rule::DocumentObject => "6.1.2",
            Rule::ContextPresent
            | Rule::ContextBaseFirst
            | Rule::ContextItems
            | Rule::ContextProcessable => "4.3",
            Rule::TermsDefined => "5.2.1",
            Rule::JsonLdExpansion => "B.1",
            Rule::IdSingle | Rule::IdUrl => "4.4",
            Rule::TypePresent | Rule::TypeValues | Rule::TypeBase => "4.5",
            Rule::NameDescription => "4.6",
            Rule::LanguageValue => "11.1",
            Rule::IssuerPresent | Rule::IssuerUrl => "4.7",
            Rule::CredentialSubjectPresent | Rule::CredentialSubjectNonEmpty => "4.8",
            Rule::ValidFromDateTime | Rule::ValidUntilDateTime | Rule::ValidityOrder => "4.9",
            Rule::CredentialStatusType => "4.10",
            Rule::CredentialSchemaType | Rule::CredentialSchemaId => "4.11",
            Rule::HolderUrl | Rule::VerifiableCredentialObject | Rule::VerifiableCredentialType => {
                "4.13"
            }
            Rule::SelfAssertedHolder => "4.13.4",
            Rule::EnvelopedContext | Rule::EnvelopedId => "4.13.1",
            Rule::RelatedResource => "5.3",
            Rule::RefreshServiceType => "5.4",
            Rule::TermsOfUseType => "5.5",
            Rule::EvidenceType => "5.6",
            Rule::ReservedExtensionType => "5.10",
        }
    }

    /// Whether checking the rule needs JSON-LD processing (done by `dojang_verifier::di`, not
    /// by [`validate_document`](super::validate_document)).
    pub fn needs_json_ld(self) -> bool {
        matches!(
            self,
            Rule::ContextProcessable | Rule::TermsDefined | Rule::JsonLdExpansion
        )
    }

    /// The rule in English.
    pub fn message_en(self) -> &'static str {
        match self {
            Rule::DocumentObject => "A credential or presentation must be a JSON object.",
            Rule::ContextPresent => "Credentials and presentations must include @context.",
            Rule::ContextBaseFirst => {
                "The first @context item must be https://www.w3.org/ns/credentials/v2."
            }
            Rule::ContextItems => "Every further @context item must be a URL or an object.",
            Rule::ContextProcessable => {
                "Every @context must be processable as a JSON-LD context, from contexts known offline, without redefining a protected term."
            }
            Rule::TermsDefined => {
                "Every property and type must be defined by the contexts (map to a URL)."
            }
            Rule::JsonLdExpansion => "The document must expand as JSON-LD without error.",
            Rule::IdSingle => "An id must be a single value, not several.",
            Rule::IdUrl => "An id must be a URL.",
            Rule::TypePresent => "Credentials and presentations must have a type.",
            Rule::TypeValues => "Every type value must be a term or an absolute URL string.",
            Rule::TypeBase => {
                "A credential's type must include VerifiableCredential; a presentation's, VerifiablePresentation."
            }
            Rule::NameDescription => {
                "name and description must be strings or language value objects."
            }
            Rule::LanguageValue => {
                "A language value object must have a string @value and no keys but @value, @language and @direction."
            }
            Rule::IssuerPresent => "A credential must have an issuer.",
            Rule::IssuerUrl => "The issuer must be a URL or an object whose id is a URL.",
            Rule::CredentialSubjectPresent => "A credential must have a credentialSubject.",
            Rule::CredentialSubjectNonEmpty => {
                "Every credentialSubject must be an object that makes at least one claim."
            }
            Rule::ValidFromDateTime => "validFrom must be an XML Schema dateTimeStamp.",
            Rule::ValidUntilDateTime => "validUntil must be an XML Schema dateTimeStamp.",
            Rule::ValidityOrder => "validFrom must not be later than validUntil.",
            Rule::CredentialStatusType => "Every credentialStatus must be an object with a type.",
            Rule::CredentialSchemaType => "Every credentialSchema must be an object with a type.",
            Rule::CredentialSchemaId => "Every credentialSchema must have an id that is a URL.",
            Rule::HolderUrl => "The holder must be a URL or an object whose id is a URL.",
            Rule::VerifiableCredentialObject => {
                "verifiableCredential values must be objects, never strings, numbers or URLs."
            }
            Rule::VerifiableCredentialType => {
                "Every verifiableCredential must be typed VerifiableCredential or EnvelopedVerifiableCredential."
            }
            Rule::SelfAssertedHolder => {
                "A credential secured only by the presentation's proof is self-asserted: the presentation's holder must be its issuer."
            }
            Rule::EnvelopedContext => {
                "An enveloped credential or presentation must have an @context that includes the base context."
            }
            Rule::EnvelopedId => {
                "An enveloped credential or presentation's id must be a data: URL."
            }
            Rule::RelatedResource => {
                "Every relatedResource must have a unique URL id and a digestSRI or digestMultibase."
            }
            Rule::RefreshServiceType => "Every refreshService must be an object with a type.",
            Rule::TermsOfUseType => "Every termsOfUse must be an object with a type.",
            Rule::EvidenceType => "Every evidence must be an object with a type.",
            Rule::ReservedExtensionType => {
                "Every confidenceMethod and renderMethod must be an object with a type."
            }
        }
    }

    /// The rule in Korean.
    pub fn message_ko(self) -> &'static str {
        match self {
            Rule::DocumentObject => "자격증명과 제시는 JSON 객체여야 합니다.",
            Rule::ContextPresent => "자격증명과 제시에는 @context가 있어야 합니다.",
            Rule::ContextBaseFirst => {
                "@context의 첫 항목은 https://www.w3.org/ns/credentials/v2 이어야 합니다."
            }
            Rule::ContextItems => "@context의 나머지 항목은 각각 URL이나 객체여야 합니다.",
            Rule::ContextProcessable => {
                "모든 @context는 오프라인으로 알려진 컨텍스트만으로 JSON-LD 컨텍스트로 처리될 수 있어야 하며, 보호된 용어를 재정의해서는 안 됩니다."
            }
            Rule::TermsDefined => {
                "모든 속성과 유형은 컨텍스트에 정의되어 있어야(URL로 대응되어야) 합니다."
            }
            Rule::JsonLdExpansion => "문서는 오류 없이 JSON-LD로 확장될 수 있어야 합니다.",
            Rule::IdSingle => "id는 여러 개가 아닌 하나의 값이어야 합니다.",
            Rule::IdUrl => "id는 URL이어야 합니다.",
            Rule::TypePresent => "자격증명과 제시에는 type이 있어야 합니다.",
            Rule::TypeValues => "type의 각 값은 용어(term)이거나 절대 URL 문자열이어야 합니다.",
            Rule::TypeBase => {
                "자격증명의 type에는 VerifiableCredential이, 제시의 type에는 VerifiablePresentation이 있어야 합니다."
            }
            Rule::NameDescription => "name과 description은 문자열이거나 언어 값 객체여야 합니다.",
            Rule::LanguageValue => {
                "언어 값 객체에는 문자열 @value가 있어야 하며, @value·@language·@direction 외의 키가 있어서는 안 됩니다."
            }
            Rule::IssuerPresent => "자격증명에는 issuer가 있어야 합니다.",
            Rule::IssuerUrl => "issuer는 URL이거나, id가 URL인 객체여야 합니다.",
            Rule::CredentialSubjectPresent => "자격증명에는 credentialSubject가 있어야 합니다.",
            Rule::CredentialSubjectNonEmpty => {
                "각 credentialSubject는 하나 이상의 클레임을 담은 객체여야 합니다."
            }
            Rule::ValidFromDateTime => "validFrom은 XML Schema dateTimeStamp 형식이어야 합니다.",
            Rule::ValidUntilDateTime => "validUntil은 XML Schema dateTimeStamp 형식이어야 합니다.",
            Rule::ValidityOrder => "validFrom은 validUntil보다 늦어서는 안 됩니다.",
            Rule::CredentialStatusType => "각 credentialStatus는 type이 있는 객체여야 합니다.",
            Rule::CredentialSchemaType => "각 credentialSchema는 type이 있는 객체여야 합니다.",
            Rule::CredentialSchemaId => "각 credentialSchema에는 URL인 id가 있어야 합니다.",
            Rule::HolderUrl => "holder는 URL이거나, id가 URL인 객체여야 합니다.",
            Rule::VerifiableCredentialObject => {
                "verifiableCredential의 값은 객체여야 하며, 문자열·숫자·URL이어서는 안 됩니다."
            }
            Rule::VerifiableCredentialType => {
                "각 verifiableCredential의 type은 VerifiableCredential 또는 EnvelopedVerifiableCredential이어야 합니다."
            }
            Rule::SelfAssertedHolder => {
                "제시의 증명으로만 보호되는 자격증명은 자기 주장(self-asserted)이므로, 제시의 holder가 그 발급자여야 합니다."
            }
            Rule::EnvelopedContext => {
                "봉투형(enveloped) 자격증명·제시에는 기본 컨텍스트를 포함하는 @context가 있어야 합니다."
            }
            Rule::EnvelopedId => "봉투형(enveloped) 자격증명·제시의 id는 data: URL이어야 합니다.",
            Rule::RelatedResource => {
                "각 relatedResource에는 고유한 URL id와 digestSRI 또는 digestMultibase가 있어야 합니다."
            }
            Rule::RefreshServiceType => "각 refreshService는 type이 있는 객체여야 합니다.",
            Rule::TermsOfUseType => "각 termsOfUse는 type이 있는 객체여야 합니다.",
            Rule::EvidenceType => "각 evidence는 type이 있는 객체여야 합니다.",
            Rule::ReservedExtensionType => {
                "각 confidenceMethod와 renderMethod는 type이 있는 객체여야 합니다."
            }
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
