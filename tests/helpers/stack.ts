/**
 * Stack files for tests, written the way `pulumi config set --secret` writes them: secrets as
 * `secure:` ciphertexts under an `encryptionsalt`, with the published test passphrase of the
 * example stacks, so the plan checks them as the Pulumi CLI does.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import { Crypter, crypterFromSalt, newEncryptionSalt } from "../../program/plan/passphrase";

/** The example stacks' passphrase (README: "Example stacks"). */
export const TEST_PASSPHRASE = "sovereign-faas-example";
/** What a plan needs in its environment to decrypt the stacks these helpers write. */
export const PASSPHRASE_ENV = { PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE } as const;

/** A value to be written as a `secure:` value. */
export class Secret {
    constructor(readonly value: string) {}
}

let fresh: { salt: string; crypter: Crypter } | undefined;
function testSalt(): { salt: string; crypter: Crypter } {
    fresh ??= newEncryptionSalt(TEST_PASSPHRASE);
    return fresh;
}

/** Replaces Secret markers with `{ secure: <ciphertext> }`. */
function encryptSecrets(value: unknown, crypter: Crypter): unknown {
    if (value instanceof Secret) {
        return { secure: crypter.encrypt(value.value) };
    }
    if (Array.isArray(value)) {
        return value.map((v) => encryptSecrets(v, crypter));
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encryptSecrets(v, crypter)]));
    }
    return value;
}

/** The text of a stack file holding `config`, its Secret markers encrypted. */
export function stackYaml(config: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const { salt, crypter } = testSalt();
    return yaml.dump({ encryptionsalt: salt, ...extra, config: encryptSecrets(config, crypter) });
}

/** Writes `Pulumi.<stack>.yaml` into `dir`. */
export function writeStack(dir: string, stack: string, config: Record<string, unknown>): string {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, stackYaml(config));
    return file;
}

/** Reads a committed stack file; its secure values come back as Secret markers. */
export function readStackConfig(file: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { encryptionsalt?: string; config: Record<string, unknown> };
    const crypter = doc.encryptionsalt === undefined ? undefined : crypterFromSalt(TEST_PASSPHRASE, doc.encryptionsalt);
    const walk = (v: unknown): unknown => {
        if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string") {
            if (crypter === undefined) {
                throw new Error(`${file} has secure values but no encryptionsalt`);
            }
            return new Secret(crypter.decrypt((v as { secure: string }).secure));
        }
        if (Array.isArray(v)) {
            return v.map(walk);
        }
        if (typeof v === "object" && v !== null) {
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        }
        return v;
    };
    return walk(doc.config) as Record<string, unknown>;
}
