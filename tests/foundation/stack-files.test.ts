/**
 * `npm run plan` refuses what the Pulumi CLI refuses, with the CLI's reason
 * (pkg/workspace/config.go mergeConfig and validateStackConfigValues; passphrase provider).
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

import { ValidationError } from "../../components";
import { KNOWN_KEYS } from "../../program/config";
import { ciphertextProblem, crypterFromSalt, newEncryptionSalt } from "../../program/plan/passphrase";
import { loadStackFiles, matchesType, StackFileError } from "../../program/plan/stack-files";
import { REPO_ROOT } from "../helpers/plan";
import { PASSPHRASE_ENV, Secret, stackYaml, TEST_PASSPHRASE } from "../helpers/stack";

function project(config: Record<string, unknown>, extra = ""): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-stackfiles-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: p\nruntime: nodejs\n${extra}config:\n${Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    return dir;
}

function refusal(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        if (err instanceof ValidationError) {
            return err.problems.map((p) => `${p.key} | ${p.rule}`);
        }
        return [(err as Error).message];
    }
    throw new Error("expected the stack to be refused");
}

describe("the CLI's config rules, applied offline", () => {
    const decls = {
        host: { type: "string" },
        port: { type: "integer", default: 22 },
        flag: { type: "boolean", default: false },
        list: { type: "array", items: { type: "string" }, default: ["a"] },
        map: { type: "object", default: {} },
        key: { type: "string", secret: true },
        untyped: { description: "no type: never type-checked" },
    };

    it("applies defaults and passes values as the CLI's strings (maps and lists as JSON)", () => {
        const dir = project(decls);
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), stackYaml({ "p:host": "h", "p:key": new Secret("k"), "p:untyped": 1 }));
        const f = loadStackFiles(dir, "s", { env: PASSPHRASE_ENV });
        expect(f.config).toEqual({ "p:host": "h", "p:key": "k", "p:untyped": "1", "p:port": "22", "p:flag": "false", "p:list": '["a"]', "p:map": "{}" });
        expect(f.secretKeys).toEqual(["p:key"]);
    });

    it("names every missing required key at once, in the CLI's words", () => {
        const dir = project(decls);
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config: {}\n");
        expect(refusal(() => loadStackFiles(dir, "s", { env: {} }))).toEqual([
            `p:host, p:key, p:untyped | Pulumi.yaml declares them without a default, so the CLI refuses the stack: "Stack 's' is missing configuration values 'host', 'key' and 'untyped'"`,
        ]);
    });

    it("checks declared types as ValidateConfigValue does, and secret declarations", () => {
        const dir = project(decls);
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), stackYaml({ "p:host": { a: 1 }, "p:port": "twenty", "p:flag": "yes", "p:list": [1], "p:map": "text", "p:key": "plain", "p:untyped": "x" }));
        expect(refusal(() => loadStackFiles(dir, "s", { env: PASSPHRASE_ENV }))).toEqual([
            `p:flag | is declared in Pulumi.yaml as boolean, and the CLI refuses it: "Stack 's' with configuration key 'flag' must be of type 'boolean'"`,
            `p:host | is declared in Pulumi.yaml as string, and the CLI refuses it: "Stack 's' with configuration key 'host' must be of type 'string'"`,
            `p:key | is declared secret in Pulumi.yaml, and the CLI refuses it: "Stack 's' with configuration key 'key' must be encrypted as it's secret"`,
            `p:list | is declared in Pulumi.yaml as array<string>, and the CLI refuses it: "Stack 's' with configuration key 'list' must be of type 'array<string>'"`,
            `p:map | is declared in Pulumi.yaml as object, and the CLI refuses it: "Stack 's' with configuration key 'map' must be of type 'object'"`,
            `p:port | is declared in Pulumi.yaml as integer, and the CLI refuses it: "Stack 's' with configuration key 'port' must be of type 'integer'"`,
        ]);
    });

    it("reads scalars as text, the way the CLI marshals them", () => {
        expect(matchesType("string", undefined, "8080")).toBe(true);
        expect(matchesType("integer", undefined, "8080")).toBe(true);
        expect(matchesType("integer", undefined, "8.5")).toBe(false);
        expect(matchesType("boolean", undefined, "true")).toBe(true);
        expect(matchesType("array", { type: "integer" }, [1, "2"])).toBe(true);
        expect(matchesType("array", undefined, [1])).toBe(false);
    });

    it("refuses an invalid declaration in Pulumi.yaml itself", () => {
        const dir = project({ a: { type: "array" } });
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config: {}\n");
        expect(() => loadStackFiles(dir, "s", { env: {} })).toThrow("The configuration key 'a' declares an array but does not specify the underlying type via the 'items' attribute");
    });
});

describe("secure values, as the passphrase provider reads them", () => {
    const dir = project({ key: { type: "string", secret: true } });
    const salt = newEncryptionSalt(TEST_PASSPHRASE);

    it("decrypts with the passphrase, and uses a placeholder without it", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), `encryptionsalt: ${salt.salt}\nconfig:\n  p:key:\n    secure: ${salt.crypter.encrypt("the key")}\n`);
        expect(loadStackFiles(dir, "s", { env: PASSPHRASE_ENV }).config["p:key"]).toBe("the key");
        expect(loadStackFiles(dir, "s", { env: {} }).config["p:key"]).toMatch(/^\[secret placeholder/);
    });

    it("stops on a wrong passphrase, a malformed or foreign ciphertext, as the CLI does", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), `encryptionsalt: ${salt.salt}\nconfig:\n  p:key:\n    secure: ${salt.crypter.encrypt("k")}\n`);
        expect(() => loadStackFiles(dir, "s", { env: { PULUMI_CONFIG_PASSPHRASE: "wrong" } })).toThrow("the Pulumi CLI would stop here: incorrect passphrase");
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), `encryptionsalt: ${salt.salt}\nconfig:\n  p:key:\n    secure: AAABAKNlW2V4YW1wbGUtY2lwaGVydGV4dA==\n`);
        expect(refusal(() => loadStackFiles(dir, "s", { env: {} }))).toEqual([`p:key | is not a ciphertext of this stack's passphrase provider: the CLI stops with "bad value"`]);
        const other = newEncryptionSalt(TEST_PASSPHRASE);
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), `encryptionsalt: ${salt.salt}\nconfig:\n  p:key:\n    secure: ${other.crypter.encrypt("k")}\n`);
        expect(refusal(() => loadStackFiles(dir, "s", { env: PASSPHRASE_ENV }))).toEqual([`p:key | cannot be decrypted with this stack's passphrase: the CLI stops with "cipher: message authentication failed"`]);
    });

    it("refuses secure values without an encryptionsalt on a DIY backend, and warns otherwise", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  p:key:\n    secure: AAABAKNlW2V4YW1wbGU=\n");
        expect(refusal(() => loadStackFiles(dir, "s", { env: { PULUMI_BACKEND_URL: "file:///tmp/state" } }))[0]).toContain("holds secure: values but no encryptionsalt");
        expect(loadStackFiles(dir, "s", { env: {} }).warnings[0]).toContain("only a Pulumi Cloud stack can decrypt them");
    });

    it("validates ciphertext shapes with the CLI's messages", () => {
        expect(ciphertextProblem("v1:AAAAAAAAAAAAAAAA:AAAA")).toBeUndefined();
        expect(ciphertextProblem("v2:a:b")).toBe("unknown value version");
        expect(ciphertextProblem("v1:AAAA:AAAA")).toBe("bad value: nonce size is incorrect");
        expect(ciphertextProblem("plain")).toBe("bad value");
    });

    it("round-trips with the committed example stacks' salt", () => {
        const doc = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
        const s = /^encryptionsalt: (\S+)$/m.exec(doc)?.[1] as string;
        expect(crypterFromSalt(TEST_PASSPHRASE, s).decrypt(crypterFromSalt(TEST_PASSPHRASE, s).encrypt("x"))).toBe("x");
    });
});

describe("the shipped stacks and the project declarations", () => {
    it("declares every key the program reads, each with a type", () => {
        const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type?: string }> };
        expect(Object.keys(doc.config).sort()).toEqual([...KNOWN_KEYS].sort());
        expect(Object.entries(doc.config).filter(([, d]) => d.type === undefined)).toEqual([]);
    });

    it.each(["prod", "dev"])("accepts the %s example stack with the published passphrase, and without it", (stack) => {
        expect(loadStackFiles(REPO_ROOT, stack, { env: PASSPHRASE_ENV }).warnings).toEqual([]);
        expect(loadStackFiles(REPO_ROOT, stack, { env: {} }).warnings).toEqual([]);
    });

    it("throws StackFileError for files that are not YAML maps, naming no content", () => {
        const dir = project({});
        fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config:\n  p:key: [unclosed\n  p:secret: hunter2\n");
        let message = "";
        try {
            loadStackFiles(dir, "s", { env: {} });
        } catch (err) {
            expect(err).toBeInstanceOf(StackFileError);
            message = (err as Error).message;
        }
        expect(message).toMatch(/is not valid YAML: .* \(line \d+, column \d+\)$/);
        expect(message).not.toContain("hunter2");
    });
});
