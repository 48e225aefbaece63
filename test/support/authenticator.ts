/**
 * A software authenticator for the API tests: it makes passkeys (an ES256 key from node:crypto,
 * `none` attestation) and signs logins with them, laying the bytes out as WebAuthn does
 * (authenticator data, COSE key, CBOR attestation object, client data), so the passkey routes can
 * be tested without a browser. Each response can be bent (another origin or RP ID, a broken
 * signature, a counter set by hand, no user verification) to test the server's checks.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/** The JSON of creation or request options, as the service answers them (the parts used here). */
export interface CreationOptions {
  readonly challenge: string;
  readonly rp: { readonly id?: string };
  readonly user: { readonly id: string };
  readonly excludeCredentials?: readonly { readonly id: string }[];
}
export interface RequestOptions {
  readonly challenge: string;
  readonly rpId?: string;
}

/** What a response may be bent with. */
export interface Bend {
  readonly origin?: string;
  readonly rpId?: string;
  /** User verification (on by default). */
  readonly userVerified?: boolean;
  /** The signature counter to report (by default, one more than the last). */
  readonly counter?: number;
  /** Flip a byte of the signature. */
  readonly badSignature?: boolean;
  /** Another challenge than the options'. */
  readonly challenge?: string;
}

interface Credential {
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly cose: Uint8Array;
  readonly userHandle: string;
  counter: number;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export class SoftAuthenticator {
  private readonly credentials: Credential[] = [];

  constructor(
    private readonly origin: string,
    /** Whether it counts signatures (many synced passkeys report 0 always). */
    private readonly counts = true,
  ) {}

  /** The credential ids it holds, base64url. */
  get credentialIds(): string[] {
    return this.credentials.map((credential) => credential.id.toString('base64url'));
  }

  /** A registration response to `options`: a new passkey. */
  create(options: CreationOptions, bend: Bend = {}): object {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url'))],
      ]),
    );
    const credential: Credential = {
      id: randomBytes(16),
      privateKey,
      cose,
      userHandle: options.user.id,
      counter: 0,
    };
    this.credentials.push(credential);
    const rpId = bend.rpId ?? options.rp.id ?? '';
    const attested = Buffer.concat([
      Buffer.alloc(16),
      Buffer.from([0, credential.id.length]),
      credential.id,
      Buffer.from(cose),
    ]);
    const authData = Buffer.concat([
      this.header(rpId, { userVerified: bend.userVerified ?? true, attested: true }, 0),
      attested,
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const clientData = this.clientData(
      'webauthn.create',
      bend.challenge ?? options.challenge,
      bend,
    );
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['internal'],
      },
    };
  }

  /** A login response to `options`, signed by passkey `which` (the last made by default). */
  get(options: RequestOptions, bend: Bend = {}, which?: string): object {
    const credential =
      which === undefined
        ? this.credentials.at(-1)
        : this.credentials.find((held) => held.id.toString('base64url') === which);
    if (credential === undefined) throw new Error('the authenticator holds no such passkey');
    const counter = bend.counter ?? (this.counts ? credential.counter + 1 : 0);
    credential.counter = Math.max(credential.counter, counter);
    const authData = this.header(
      bend.rpId ?? options.rpId ?? '',
      { userVerified: bend.userVerified ?? true, attested: false },
      counter,
    );
    const clientData = this.clientData('webauthn.get', bend.challenge ?? options.challenge, bend);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), {
      key: credential.privateKey,
      dsaEncoding: 'der',
    });
    if (bend.badSignature === true)
      signature.writeUInt8((signature.at(-1) ?? 0) ^ 0x01, signature.length - 1);
    const id = credential.id.toString('base64url');
    return {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: credential.userHandle,
      },
    };
  }

  private header(
    rpId: string,
    flags: { userVerified: boolean; attested: boolean },
    counter: number,
  ): Buffer {
    // UP, UV when verified, AT when a credential follows.
    const bits = 0x01 | (flags.userVerified ? 0x04 : 0) | (flags.attested ? 0x40 : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([bits]), count]);
  }

  private clientData(type: string, challenge: string, bend: Bend): Buffer {
    return Buffer.from(
      JSON.stringify({ type, challenge, origin: bend.origin ?? this.origin, crossOrigin: false }),
    );
  }
}
