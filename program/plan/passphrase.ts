/**
 * The Pulumi CLI's passphrase secrets provider, so the offline plan reads a stack's `secure:`
 * values the way `pulumi preview` does. Format, from pulumi/pulumi (v3.259.0, unchanged on master):
 * - `encryptionsalt: v1:<base64 salt>:<check>`, where `<check>` is the string "pulumi" encrypted
 *   with the key (pkg/secrets/passphrase/manager.go, symmetricCrypterFromPhraseAndState);
 * - the key is PBKDF2-SHA256 of the passphrase and salt, 1,000,000 iterations, 32 bytes
 *   (sdk/go/common/resource/config/crypt.go, NewSymmetricCrypterFromPassphrase);
 * - each value is `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and tag>`
 *   (crypt.go, symmetricCrypter.EncryptValue / DecryptValue).
 * Error messages are the CLI's own.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from "crypto";

const ITERATIONS = 1_000_000;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_TEXT = "pulumi";

/** A value's shape problem, in the CLI's words (crypt.go DecryptValue), or undefined when well formed. */
export function ciphertextProblem(value: string): string | undefined {
    const parts = value.split(":");
    if (parts.length !== 3) {
        return "bad value";
    }
    if (parts[0] !== "v1") {
        return "unknown value version";
    }
    const b64 = /^[A-Za-z0-9+/]*={0,2}$/;
    if (!b64.test(parts[1]) || !b64.test(parts[2]) || parts[1].length % 4 !== 0 || parts[2].length % 4 !== 0) {
        return "bad value: illegal base64 data";
    }
    if (Buffer.from(parts[1], "base64").length !== NONCE_BYTES) {
        return "bad value: nonce size is incorrect";
    }
    return undefined;
}

/** An error the CLI would also stop on, with its message. */
export class PassphraseError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PassphraseError";
    }
}

export interface Crypter {
    encrypt(plaintext: string): string;
    decrypt(ciphertext: string): string;
}

function crypterForKey(key: Buffer): Crypter {
    return {
        encrypt(plaintext: string): string {
            const nonce = randomBytes(NONCE_BYTES);
            const cipher = createCipheriv("aes-256-gcm", key, nonce);
            const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
            return `v1:${nonce.toString("base64")}:${body.toString("base64")}`;
        },
        decrypt(ciphertext: string): string {
            const problem = ciphertextProblem(ciphertext);
            if (problem !== undefined) {
                throw new PassphraseError(problem);
            }
            const [, nonceB64, bodyB64] = ciphertext.split(":");
            const body = Buffer.from(bodyB64, "base64");
            if (body.length < TAG_BYTES) {
                throw new PassphraseError("cipher: message authentication failed");
            }
            const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonceB64, "base64"));
            decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
            try {
                return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
            } catch {
                throw new PassphraseError("cipher: message authentication failed");
            }
        },
    };
}

function keyOf(passphrase: string, salt: Buffer): Buffer {
    return pbkdf2Sync(Buffer.from(passphrase, "utf8"), salt, ITERATIONS, KEY_BYTES, "sha256");
}

/** The crypter of a stack whose `encryptionsalt` is `state`; throws the CLI's error for a wrong passphrase. */
export function crypterFromSalt(passphrase: string, state: string): Crypter {
    const i = state.indexOf(":");
    const j = state.indexOf(":", i + 1);
    if (i < 0 || j < 0) {
        throw new PassphraseError("malformed state value");
    }
    if (state.slice(0, i) !== "v1") {
        throw new PassphraseError("unknown state version");
    }
    const crypter = crypterForKey(keyOf(passphrase, Buffer.from(state.slice(i + 1, j), "base64")));
    let check: string | undefined;
    try {
        check = crypter.decrypt(state.slice(j + 1));
    } catch {
        check = undefined;
    }
    if (check !== CHECK_TEXT) {
        throw new PassphraseError("incorrect passphrase");
    }
    return crypter;
}

/** A new `encryptionsalt` for a passphrase, as `pulumi stack init` makes one (8 random bytes of salt). */
export function newEncryptionSalt(passphrase: string): { salt: string; crypter: Crypter } {
    const salt = randomBytes(8);
    const crypter = crypterForKey(keyOf(passphrase, salt));
    return { salt: `v1:${salt.toString("base64")}:${crypter.encrypt(CHECK_TEXT)}`, crypter };
}
