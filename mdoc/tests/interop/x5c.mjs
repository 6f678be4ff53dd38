// An SD-JWT VC verifier that knows nothing of dojang: Node's own X.509 and crypto, no packages.
// Reads {sd_jwt, root} (root: the IACA certificate, base64 DER) on stdin and prints what it
// found: whether x5c chains to the root and names the issuer, and whether the signature
// verifies with the certificate's key — and, given a JWK set, with the key under the `kid`.
import { X509Certificate, createPublicKey, verify } from "node:crypto";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const [jwt] = input.sd_jwt.split("~");
const [header64, payload64, signature64] = jwt.split(".");
const header = JSON.parse(Buffer.from(header64, "base64url"));
const payload = JSON.parse(Buffer.from(payload64, "base64url"));
const signingInput = Buffer.from(`${header64}.${payload64}`);
const signature = Buffer.from(signature64, "base64url");
const es256 = (key) => verify("sha256", signingInput, { key, dsaEncoding: "ieee-p1363" }, signature);

const root = new X509Certificate(Buffer.from(input.root, "base64"));
const leaf = new X509Certificate(Buffer.from(header.x5c[0], "base64"));
const now = new Date();
const result = {
  alg: header.alg,
  chains: leaf.verify(root.publicKey) && leaf.checkIssued(root),
  valid_now: new Date(leaf.validFrom) <= now && now <= new Date(leaf.validTo),
  names_issuer: (leaf.subjectAltName || "").split(", ").includes(`URI:${payload.iss}`),
  signature_x5c: es256(leaf.publicKey),
};
if (input.jwks) {
  const jwk = input.jwks.keys.find((k) => k.kid === header.kid);
  result.signature_jwks = jwk ? es256(createPublicKey({ key: jwk, format: "jwk" })) : false;
}
console.log(JSON.stringify(result));
