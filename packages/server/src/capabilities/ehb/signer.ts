/**
 * The facility's signature on the payload (CHUKYDONVI, mandatory since 01/01/2026, SHA-256 — VIETNAM.md §2): an
 * enveloped XML-DSig over the whole envelope (RSA-SHA256, exclusive canonicalisation, SHA-256 digest) written with
 * xml-crypto into `CHUKYDONVI`. Enveloped rather than detached because the gateway takes one file per episode with
 * the signature inside it, as the claims XML does.
 *
 * The key: SEN_EHB_SIGNING_KEY_FILE (PEM private key; with SEN_EHB_SIGNING_CERT_FILE the certificate registered on the
 * BHXH portal, sent in KeyInfo/X509Data). Without one, a 2048-bit RSA key is generated on first start and kept in
 * `ehb_signing_key` (migration 0019), so restarts and every node on the same database sign with the same key; its
 * SHA-256 fingerprint goes in KeyInfo/KeyName so the receiver can pick the registered public key.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Queryable } from '@sen/db';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

const ALG = {
  signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  c14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
};
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

export interface SigningMaterial {
  privateKeyPem: string;
  publicKeyPem: string;
  /** The X.509 certificate (PEM) registered with the gateway, when configured. */
  certificatePem?: string;
}

/** SHA-256 of the public key (SPKI DER), hex: the KeyName of a signature made without a certificate. */
export function keyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Seals and opens the stored private key (Security.sealerFor's SecretBox). */
export interface KeySealer {
  seal(plaintext: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

/** Associated data of the sealed key: a sealed value moved to another row or table does not open. */
const SEAL_CONTEXT = 'ehb_signing_key:default';

export class EhbSigner {
  readonly material: SigningMaterial;
  readonly fingerprint: string;

  constructor(material: SigningMaterial) {
    this.material = material;
    this.fingerprint = keyFingerprint(material.publicKeyPem);
  }

  /**
   * The configured key, or the one kept in the database (generated and stored on first use). With a sealer (the
   * app's SEN_SECRET_KEY, see Security.sealerFor) the stored private key is sealed with AES-256-GCM; without one
   * (the API without sign-in, local development only) it is stored as PEM.
   */
  static async load(
    db: Queryable,
    configured?: { privateKeyPem: string; certificatePem?: string },
    sealer?: KeySealer,
  ): Promise<EhbSigner> {
    if (configured) {
      const publicKeyPem = createPublicKey(configured.privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
      return new EhbSigner({ ...configured, publicKeyPem });
    }
    const existing = await db.query<{ private_key_pem: string; public_key_pem: string }>(
      `SELECT private_key_pem, public_key_pem FROM ehb_signing_key WHERE name = 'default'`,
    );
    const stored = existing.rows[0];
    if (stored) {
      const sealed = !stored.private_key_pem.startsWith('-----BEGIN');
      if (sealed && !sealer) {
        throw new Error(
          'the e-health-book signing key is sealed: the app needs SEN_SECRET_KEY (sign-in on) to open it',
        );
      }
      return new EhbSigner({
        privateKeyPem: sealed && sealer ? sealer.open(stored.private_key_pem, SEAL_CONTEXT) : stored.private_key_pem,
        publicKeyPem: stored.public_key_pem,
      });
    }
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await db.query(
      `INSERT INTO ehb_signing_key (name, private_key_pem, public_key_pem) VALUES ('default', $1, $2)
       ON CONFLICT (name) DO NOTHING`,
      [sealer ? sealer.seal(pem, SEAL_CONTEXT) : pem, publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    );
    // another node may have won the insert: everyone signs with the stored key
    return EhbSigner.load(db, undefined, sealer);
  }

  /** The envelope with its XML signature inside CHUKYDONVI. */
  sign(envelopeXml: string): string {
    const cert = this.material.certificatePem;
    const keyName = this.fingerprint;
    const sig = new SignedXml({
      privateKey: this.material.privateKeyPem,
      signatureAlgorithm: ALG.signature,
      canonicalizationAlgorithm: ALG.c14n,
      getKeyInfoContent: () =>
        cert
          ? `<X509Data><X509Certificate>${cert.replace(/-----[^-]+-----|\s+/g, '')}</X509Certificate></X509Data>`
          : `<KeyName>${keyName}</KeyName>`,
    });
    sig.addReference({
      xpath: "/*[local-name(.)='GIAMDINHHS']",
      transforms: [ALG.enveloped, ALG.c14n],
      digestAlgorithm: ALG.digest,
      uri: '',
      isEmptyUri: true,
    });
    sig.computeSignature(envelopeXml, {
      location: { reference: "//*[local-name(.)='CHUKYDONVI']", action: 'append' },
    });
    return sig.getSignedXml();
  }
}

export type VerifyResult = { ok: true; keyName?: string } | { ok: false; reason: string };

/** Checks the envelope's signature against a public key (the receiver's side; the simulator uses it). */
export function verifyEnvelope(signedXml: string, publicKeyPem: string): VerifyResult {
  let doc: Document;
  try {
    doc = new DOMParser().parseFromString(signedXml, 'text/xml') as unknown as Document;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const signatures = doc.getElementsByTagNameNS(DSIG_NS, 'Signature');
  if (signatures.length !== 1) {
    return { ok: false, reason: signatures.length === 0 ? 'unsigned' : 'several-signatures' };
  }
  const signature = signatures[0];
  if (signature.parentNode?.nodeName !== 'CHUKYDONVI') {
    return { ok: false, reason: 'misplaced-signature' };
  }
  const keyName = signature.getElementsByTagNameNS(DSIG_NS, 'KeyName')[0]?.textContent ?? undefined;
  try {
    const sig = new SignedXml({ publicCert: publicKeyPem, getCertFromKeyInfo: () => null });
    sig.loadSignature(signature as unknown as Node);
    if (!sig.checkSignature(signedXml)) {
      return { ok: false, reason: 'bad-signature' };
    }
    // the one reference must cover the whole document
    const refs = sig.getReferences();
    if (refs.length !== 1 || (refs[0].uri ?? '') !== '') {
      return { ok: false, reason: 'partial-signature' };
    }
    return { ok: true, keyName };
  } catch {
    return { ok: false, reason: 'bad-signature' };
  }
}
