// dojang ⇄ @owf/mdoc. Reads what ../interop.rs wrote in <dir>: dojang's IACA and document
// signer, an IssuerSigned and a DeviceResponse dojang made over an OpenID4VP SessionTranscript.
// (1) The library verifies both, strictly, and refuses the response for another transcript.
// (2) The library issues an mdoc with dojang's document signer and presents it over the same
//     transcript: js_device_response.cbor, for dojang to verify. One JSON line per step.
//
// usage: node interop.mjs <dir>
import fs from "node:fs";
import path from "node:path";
import {
  CoseKey, DeviceKey, DeviceRequest, DocRequest, Holder, Issuer, ItemsRequest,
  SignatureAlgorithm, SessionTranscript, Verifier,
} from "@owf/mdoc";
import { context } from "./context.mjs";

const dir = process.argv[2];
const read = (file) => new Uint8Array(fs.readFileSync(path.join(dir, file)));
const input = JSON.parse(fs.readFileSync(path.join(dir, "input.json")));
const log = (step, data = {}) => console.log(JSON.stringify({ step, ...data }));
// The library's default is to throw on a failed check; a callback of our own must too.
const strict = (check) => {
  if (check.status === "FAILED") throw new Error(`${check.category}: ${check.check} ${check.reason ?? ""}`);
};
const iaca = read("iaca.der");
const transcript = read("session_transcript.cbor");

const own = await SessionTranscript.forOid4Vp(
  { clientId: input.client_id, nonce: input.nonce, responseUri: input.response_uri }, context);
log("transcript", { same: Buffer.compare(Buffer.from(own.encode()), Buffer.from(transcript)) === 0 });

await Holder.verifyIssuerSigned(
  { issuerSigned: read("issuer_signed.cbor"), trustedCertificates: [iaca], verificationCallback: strict }, context);
log("issuer_signed_verified");
await Verifier.verifyDeviceResponse(
  { deviceResponse: read("device_response.cbor"), sessionTranscript: transcript, trustedCertificates: [iaca], onCheck: strict },
  context);
log("device_response_verified");
const other = await SessionTranscript.forOid4Vp(
  { clientId: "x509_san_dns:evil.example", nonce: input.nonce, responseUri: input.response_uri }, context);
const refused = await Verifier.verifyDeviceResponse(
  { deviceResponse: read("device_response.cbor"), sessionTranscript: other, trustedCertificates: [iaca], onCheck: strict },
  context).then(() => false, () => true);
log("other_transcript_refused", { refused });

const now = new Date();
now.setMilliseconds(0);
const issued = await new Issuer(input.doc_type, context)
  .addIssuerNamespace(input.doc_type, { family_name: "홍", given_name: "길동", age_over_19: true })
  .sign({
    signingKey: CoseKey.fromJwk(input.ds_key),
    certificates: [read("ds.der")],
    algorithm: SignatureAlgorithm.ES256,
    digestAlgorithm: "SHA-256",
    deviceKeyInfo: { deviceKey: DeviceKey.fromJwk({ ...input.device_key, d: undefined }) },
    validityInfo: { signed: now, validFrom: now, validUntil: new Date(now.getTime() + 30 * 864e5) },
  });
const request = DeviceRequest.create({
  docRequests: [DocRequest.create({
    itemsRequest: ItemsRequest.create({
      docType: input.doc_type,
      namespaces: { [input.doc_type]: { family_name: false, age_over_19: false } },
    }),
  })],
});
const response = await Holder.createDeviceResponseForDeviceRequest({
  deviceRequest: request,
  sessionTranscript: transcript,
  issuerSigned: [issued],
  // `alg` is required: without it the library writes the protected header {1: undefined}.
  signature: { signingKey: CoseKey.fromJwk({ ...input.device_key, alg: "ES256" }) },
}, context);
fs.writeFileSync(path.join(dir, "js_device_response.cbor"), response.encode());
log("js_device_response_written");
