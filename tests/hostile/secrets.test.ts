/**
 * Secrets in plain text (issue 13, items 7 and 10): a `secure:` value outside the paths that
 * render secrets is refused; no problem shows a secure value or the value of an unknown key; a
 * secret that reaches a plain input stops the plan; and the stack file is read with bounds.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../../components";
import { parseStackConfig, RawConfig } from "../../program/config";
import { findSecretLeaks, scrubSecrets } from "../../program/plan/policy-stage";
import { joinPath, pathMatchesPattern, pathSegments, readSecureLeafPaths, secretDestination, secureLeafPaths } from "../../program/secure-leaves";
import { planWithConfig, prodConfig } from "../helpers/plan";
import { Secret } from "../helpers/stack";

const PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
const valid: RawConfig = {
    host: "192.0.2.10",
    location: JSON.stringify({ country: "NO", region: "NO-03" }),
    sshPrivateKey: PEM,
    firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }),
    functions: "tests/fixtures/minimal-stack.yml",
};

function problemsOf(raw: RawConfig, secretPaths: string[] = []): Array<{ key: string; value: unknown; text: string }> {
    try {
        parseStackConfig(raw, { secretPaths });
    } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).problems.map((p) => ({ key: p.key, value: p.value, text: (err as Error).message }));
    }
    return [];
}

beforeAll(async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
});

describe("config paths", () => {
    it.each([
        [["k3s", "extraArgs", "token"], "k3s.extraArgs.token"],
        [["firewall", "sshSources", "0"], "firewall.sshSources[0]"],
        [["openfaas", "helmValues", "gateway.image"], 'openfaas.helmValues["gateway.image"]'],
        [["functionSecrets", "api key", "v"], 'functionSecrets["api key"].v'],
        [["tls", 'a"b'], 'tls["a\\"b"]'],
    ])("joins %j as %s and splits it back", (segs, text) => {
        expect(joinPath(segs)).toBe(text);
        expect(pathSegments(text)).toEqual(segs);
    });

    it.each([
        ["sshPrivateKey", true],
        ["functionSecrets", true],
        ["functionSecrets.db.password", true],
        ["openfaas.licenseSecret", true],
        ["tls.key", true],
        ["k3s.extraArgs.token", true],
        ["k3s.extraArgs.kubelet-arg[0]", true],
        ["k3s", false],
        ["k3s.extraArgs", false],
        ["k3s.version", false],
        ["openfaas", false],
        ["openfaas.helmValues.gateway.env.TOKEN", false],
        ["openfaas.licenseSecretX", false],
        ["tls", false],
        ["tls.email", false],
        ["host", false],
        ["functions", false],
        ["volumes[0].hostPath", false],
        ["kernel.net.core.somaxconn", false],
        ["firewall.sshSources[0]", false],
        ["location.site", false],
        ["sshUser", false],
        ["domain", false],
        ["allowedCountries[0]", false],
    ])("%s can hold a secret: %s", (p, ok) => {
        expect(secretDestination(p) !== undefined).toBe(ok);
    });

    it("matches patterns segment by segment", () => {
        expect(pathMatchesPattern("k3s.extraArgs.token", "k3s.extraArgs.*")).toBe(true);
        expect(pathMatchesPattern("k3s.extraArgsX.token", "k3s.extraArgs.*")).toBe(false);
        expect(pathMatchesPattern('k3s.extraArgs["a.b"]', "k3s.extraArgs.*")).toBe(true);
    });
});

describe("secure leaves are read from the stack file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-leaves-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("finds every secure leaf of this project's keys, nested and in lists, and none of other namespaces", () => {
        expect(
            secureLeafPaths({
                "sovereign-faas:sshPrivateKey": { secure: "v1:a" },
                "sovereign-faas:k3s": { extraArgs: { token: { secure: "v1:b" }, "node-taint": [{ secure: "v1:c" }] } },
                "sovereign-faas:openfaas": { helmValues: { "a.b": { secure: "v1:d" } } },
                "sovereign-faas:host": "192.0.2.10",
                "aws:region": { secure: "v1:e" },
            }),
        ).toEqual(["k3s.extraArgs.node-taint[0]", "k3s.extraArgs.token", 'openfaas.helmValues["a.b"]', "sshPrivateKey"]);
    });

    it("reads Pulumi.<stack>.yaml, also under stackConfigDir, and the last part of an org/stack name", () => {
        fs.mkdirSync(path.join(dir, "cfg"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: sovereign-faas\nruntime: nodejs\nstackConfigDir: cfg\n");
        fs.writeFileSync(path.join(dir, "cfg", "Pulumi.prod.yaml"), "config:\n  sovereign-faas:tls:\n    key:\n      secure: v1:x\n");
        expect(readSecureLeafPaths(dir, "acme/prod")).toEqual(["tls.key"]);
        expect(readSecureLeafPaths(dir, "missing")).toBeUndefined();
    });

    it("stops on an alias bomb, a device or a huge file, without reading it all", () => {
        const bomb = ["config:", '  sovereign-faas:a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
        for (let i = 1; i < 9; i++) {
            bomb.push(`  sovereign-faas:b${i}: &b${i} [*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`},*${i === 1 ? "a" : `b${i - 1}`}]`);
        }
        fs.writeFileSync(path.join(dir, "cfg", "Pulumi.bomb.yaml"), `${bomb.join("\n")}\n`);
        expect(readSecureLeafPaths(dir, "bomb")).toEqual([]);
        fs.writeFileSync(path.join(dir, "cfg", "Pulumi.huge.yaml"), `config:\n  x: "${"y".repeat(5 * 1024 * 1024)}"\n`);
        expect(readSecureLeafPaths(dir, "huge")).toBeUndefined();
    });
});

describe("a secure value outside the secret-capable paths is refused, never rendered in plain text", () => {
    it.each([
        [{ openfaas: JSON.stringify({ helmValues: { gateway: { env: { TOKEN: "s3cret-value" } } } }) }, "openfaas.helmValues.gateway.env.TOKEN"],
        [{ openfaas: JSON.stringify({ helmValues: { x: "s3cret-value" } }) }, "openfaas"],
        [{ kernel: JSON.stringify({ "net.core.somaxconn": "8192" }) }, 'kernel["net.core.somaxconn"]'],
        [{ firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }) }, "firewall.apiSources[0]"],
        [{ location: JSON.stringify({ country: "NO", region: "NO-03", site: "s3cret-site" }) }, "location.site"],
        [{ host: "192.0.2.10" }, "host"],
        [{ sshUser: "deploy" }, "sshUser"],
        [{ tls: JSON.stringify({ mode: "acme", email: "dpo@example.no" }) }, "tls.email"],
    ])("refuses %j with the secure path %s", (extra, secretPath) => {
        const p = problemsOf({ ...valid, ...extra }, [secretPath]);
        expect(p.map((x) => x.key)).toContain(`sovereign-faas:${secretPath}`);
        const text = p[0].text;
        expect(text).toMatch(/holds a secure value, but sovereign-faas:\w+ is written in plain text/);
        expect(text).not.toContain("s3cret");
    });

    it.each([["sshPrivateKey"], ["k3s.extraArgs.token"], ["functionSecrets.db.password"], ["tls.key"]])("accepts a secure value at %s", (secretPath) => {
        const raw: RawConfig = { ...valid, k3s: JSON.stringify({ extraArgs: { token: "a-long-token" } }) };
        expect(problemsOf(raw, [secretPath]).filter((p) => p.key === `sovereign-faas:${secretPath}`)).toEqual([]);
    });

    it("never shows the value of a problem under a secure path", () => {
        const p = problemsOf({ ...valid, sshPort: "not-a-port" }, ["sshPort"]);
        expect(p.find((x) => x.key === "sovereign-faas:sshPort")?.value).toBe("[secret]");
        expect(p[0].text).not.toContain("not-a-port");
    });
});

describe("no message echoes a value that may be a secret", () => {
    it.each([["sshPrivatKey"], ["sshprivatekey"], ["sshPrivateKeys"], ["ssh_private_key"], ["functionSecret"], ["licenseSecret"]])("a misspelt top-level key %s: its value is not shown, the right key is suggested", (typo) => {
        const p = problemsOf({ ...valid, [typo]: PEM });
        const text = p[0].text;
        expect(text).not.toContain("PRIVATE KEY");
        expect(text).not.toContain("b3BlbnNzaC1");
        expect(p.find((x) => x.key === `sovereign-faas:${typo}`)?.value).toBe("[not shown]");
    });

    it("suggests the key a typo resembles", () => {
        expect(problemsOf({ ...valid, sshPrivatKey: PEM })[0].text).toContain("did you mean sovereign-faas:sshPrivateKey?");
    });

    it.each([
        ["tls", { mode: "provided", certificate: "c", kye: PEM }],
        ["k3s", { extraArg: { token: "t0ken-value-here" } }],
        ["openfaas", { licenceSecret: "eyJhbGciOi.licence.jwt" }],
        ["firewall", { sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"], sshSource: ["hunter2hunter2"] }],
    ])("a misspelt key inside %s is not shown either", (key, value) => {
        const text = problemsOf({ ...valid, [key]: JSON.stringify(value) }).map((p) => p.text)[0] ?? "";
        expect(text).toMatch(/is not a known setting/);
        expect(text).not.toMatch(/PRIVATE KEY|t0ken-value|licence\.jwt|hunter2/);
    });
});

describe("nulls are refused where they are, not replaced by defaults", () => {
    it.each([
        ["k3s", { version: null }, "sovereign-faas:k3s.version"],
        ["k3s", { extraArgs: { "cluster-domain": null } }, "sovereign-faas:k3s.extraArgs.cluster-domain"],
        ["openfaas", { gateway: { timeoutSeconds: null } }, "sovereign-faas:openfaas.gateway.timeoutSeconds"],
        ["firewall", { sshSources: null, apiSources: ["198.51.100.7/32"] }, "sovereign-faas:firewall.sshSources"],
        ["firewall", { sshSources: ["198.51.100.0/24", null], apiSources: ["198.51.100.7/32"] }, "sovereign-faas:firewall.sshSources[1]"],
        ["location", { country: "NO", region: "NO-03", site: null }, "sovereign-faas:location.site"],
        ["kernel", { "net.core.somaxconn": null }, "sovereign-faas:kernel.net.core.somaxconn"],
    ])("%s %j", (key, value, where) => {
        const p = problemsOf({ ...valid, [key]: JSON.stringify(value) });
        expect(p.map((x) => x.key)).toContain(where);
        expect(p.find((x) => x.key === where)?.text).toMatch(/is null; a null is not a value/);
    });
});

describe("a secret that reaches a plain input stops the plan", () => {
    const rec = (name: string, inputs: Record<string, unknown>) => ({ name, type: "t", inputs });
    const secret = (value: string, p = "sovereign-faas:functionSecrets.api.key") => ({ path: p, value });

    it("names the resource, the input and the config path of the secret, never the value", () => {
        const leaks = findSecretLeaks([rec("secret", { stringData: "[secret]" }), rec("fn", { spec: { env: [{ name: "X", value: "prefix correct-horse-battery suffix" }] } })], [secret("correct-horse-battery")]);
        expect(leaks).toEqual(["t fn: input spec.env[0].value holds, in plain text, the secure value of sovereign-faas:functionSecrets.api.key (value not shown)"]);
        expect(leaks.join()).not.toContain("horse");
    });

    it("ignores secrets too short to be told from ordinary text, and the plan's placeholder", () => {
        expect(findSecretLeaks([rec("fn", { a: "admin" })], [secret("admin")])).toEqual([]);
        expect(findSecretLeaks([rec("fn", { a: "x" })], [])).toEqual([]);
    });

    it("scrubs a secret out of any message", () => {
        expect(scrubSecrets("x points at long-secret-value.example.com", [secret("long-secret-value")])).toBe("x points at [secret].example.com");
    });

    it.each([
        ["raw", (v: string) => `value ${v} here`],
        ["inside JSON", (v: string) => `"${JSON.stringify({ key: v })}" is not a setting`],
        ["one line of it", (v: string) => `bad line: ${v.split("\n")[1]}`],
    ])("scrubs a multi-line secret printed %s (a program that echoes its config)", (_, print) => {
        const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
        const out = scrubSecrets(print(key), [secret(key)]);
        expect(out).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ");
        expect(out).toContain("[secret]");
    });

    it("end to end: a function secret's value copied into stack.yml plain env exits 2, naming both, never the value", () => {
        // Inside the project: the stack file must be (see the confinement tests).
        const dir = fs.mkdtempSync(path.join(__dirname, ".tmp-leak-"));
        try {
            const stack = path.join(dir, "leak-stack.yml");
            fs.writeFileSync(stack, 'provider:\n  name: openfaas\nfunctions:\n  leaky:\n    image: ghcr.io/example/leaky:1.0.0\n    environment:\n      API: "sk-live-0123456789abcdef"\n    secrets:\n      - api\n');
            const cfg = { ...prodConfig(), "sovereign-faas:functions": path.relative(path.resolve(__dirname, "..", ".."), stack), "sovereign-faas:functionSecrets": { api: { key: new Secret("sk-live-0123456789abcdef") } }, "sovereign-faas:volumes": [] };
            const r = planWithConfig(cfg);
            expect(r.status).toBe(2);
            expect(r.stderr).toMatch(/Secret values reach plain inputs/);
            expect(r.stderr).toMatch(/leaky: input spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value holds, in plain text, the secure value of sovereign-faas:functionSecrets\.api\.key/);
            expect(r.stderr + r.stdout).not.toContain("sk-live");
            expect(r.stderr).not.toMatch(/\n\s+at /);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
