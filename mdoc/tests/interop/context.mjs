// The crypto and X.509 @owf/mdoc asks its user for, on node:crypto alone.
import crypto from "node:crypto";
import { CoseKey, KeyType } from "@owf/mdoc";

const b64u = (b) => Buffer.from(b).toString("base64url");
const jwk = (k) => ({ kty: "EC", crv: "P-256", x: b64u(k.x), y: b64u(k.y) });
const publicKey = (k) => crypto.createPublicKey({ format: "jwk", key: jwk(k) });
const privateKey = (k) => crypto.createPrivateKey({ format: "jwk", key: { ...jwk(k), d: b64u(k.d) } });
const hashes = { "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

export const context = {
  crypto: {
    random: (n) => new Uint8Array(crypto.randomBytes(n)),
    digest: ({ digestAlgorithm, bytes }) =>
      new Uint8Array(crypto.createHash(hashes[digestAlgorithm]).update(bytes).digest()),
    calculateEphemeralMacKey: ({ privateKey: key, publicKey: peer, sessionTranscriptBytes, info }) => {
      const ecdh = crypto.createECDH("prime256v1");
      ecdh.setPrivateKey(Buffer.from(key));
      const salt = crypto.createHash("sha256").update(sessionTranscriptBytes).digest();
      const k = crypto.hkdfSync("sha256", ecdh.computeSecret(Buffer.from(peer)), salt, Buffer.from(info), 32);
      return CoseKey.create({ keyType: KeyType.Oct, k: new Uint8Array(k) });
    },
  },
  cose: {
    sign1: {
      // COSE's ES256 signature is r‖s ("ieee-p1363"); the library builds the Sig_structure.
      sign: ({ toBeSigned, key }) =>
        new Uint8Array(crypto.sign("sha256", toBeSigned, { key: privateKey(key), dsaEncoding: "ieee-p1363" })),
      verify: ({ key, sign1 }) =>
        crypto.verify("sha256", sign1.toBeSigned, { key: publicKey(key), dsaEncoding: "ieee-p1363" }, sign1.signature),
    },
    mac0: {
      sign: ({ key, toBeAuthenticated }) =>
        new Uint8Array(crypto.createHmac("sha256", key.k).update(toBeAuthenticated).digest()),
      verify: ({ mac0, key }) =>
        crypto.timingSafeEqual(
          Buffer.from(mac0.tag),
          crypto.createHmac("sha256", key.k).update(mac0.toBeAuthenticated).digest(),
        ),
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) =>
      new crypto.X509Certificate(certificate).issuer
        .split("\n")
        .filter((line) => line.startsWith(field + "="))
        .map((line) => line.slice(field.length + 1)),
    getPublicKey: ({ certificate }) =>
      CoseKey.fromJwk(new crypto.X509Certificate(certificate).publicKey.export({ format: "jwk" })),
    // The signer (x5chain[0]) must be issued and signed by a trusted certificate, both valid now.
    verifyCertificateChain: ({ trustedCertificates, x5chain, now = new Date() }) => {
      const leaf = new crypto.X509Certificate(x5chain[0]);
      const valid = (c) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
      if (!valid(leaf)) throw new Error("the signer's certificate is not valid now");
      for (const trusted of trustedCertificates) {
        const root = new crypto.X509Certificate(trusted);
        if (leaf.checkIssued(root) && leaf.verify(root.publicKey) && valid(root)) return;
      }
      throw new Error("x5chain does not chain to a trusted certificate");
    },
    getCertificateData: ({ certificate }) => {
      const c = new crypto.X509Certificate(certificate);
      return {
        issuerName: c.issuer,
        subjectName: c.subject,
        serialNumber: c.serialNumber,
        thumbprint: c.fingerprint256.replaceAll(":", "").toLowerCase(),
        notBefore: new Date(c.validFrom),
        notAfter: new Date(c.validTo),
        pem: c.toString(),
      };
    },
  },
};
