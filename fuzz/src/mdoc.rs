//! The mdoc harness: bytes as a wallet's DeviceResponse, an IssuerSigned, an MSO, a COSE_Sign1
//! or a certificate, through `dojang-mdoc`'s readers and verification (against the Annex D-like
//! shape the seeds have, and no trusted root, so every path past parsing runs and refuses).

use dojang_mdoc::{Certificate, CoseSign1, DeviceResponse, IssuerSigned, MobileSecurityObject};

/// Never panics; what parses once parses again to the same.
pub fn mdoc(data: &[u8]) {
    if let Ok(response) = DeviceResponse::parse(data) {
        for document in &response.documents {
            let verified = document.verify(&[], 0, &[0x80], None);
            assert!(verified.is_err(), "no root: nothing can be trusted");
        }
    }
    if let Ok(signed) = IssuerSigned::parse(data) {
        assert!(signed.verify(&[], 0).is_err());
    }
    if let Ok(mso) = MobileSecurityObject::parse(data) {
        let again = MobileSecurityObject::parse(data).map(|m| m.value_digests);
        assert_eq!(again.ok(), Some(mso.value_digests));
    }
    if let Ok(sign1) = CoseSign1::parse(data) {
        let _ = sign1.verify(&[0x04; 65], Some(data));
    }
    if let Ok(certificate) = Certificate::from_der(data) {
        let _ = certificate.verify_issued_by(&certificate);
    }
}
