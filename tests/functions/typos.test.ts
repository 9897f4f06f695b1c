/**
 * faas-cli ignores keys it does not know. So do we (a warning), except a likely misspelling of a
 * known key, which is an error naming the key it resembles: `enviroment:` would otherwise deploy
 * a function without its environment, silently.
 */
import { likelyMisspelling, parseStackYml, StackYml } from "../../components";

const TOP = "version: 1.0\nprovider:\n  name: openfaas\n";
const parse = (text: string, files: Record<string, string> = {}): StackYml =>
    parseStackYml(text, { file: "stack.yml", env: {}, readFile: (p) => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined) });
const fn = (body: string): string => `${TOP}functions:\n  payments:\n    image: ghcr.io/example-no/payments:1.0.0\n${body}`;

describe("a misspelt function key is an error naming the key it resembles", () => {
    it.each([
        ["enviroment", "environment", "{A: b}"],
        ["envirnoment", "environment", "{A: b}"],
        ["Environment", "environment", "{A: b}"],
        ["ENVIRONMENT", "environment", "{A: b}"],
        ["environment-file", "environment_file", "[env.yml]"],
        ["environmentFile", "environment_file", "[env.yml]"],
        ["environment_files", "environment_file", "[env.yml]"],
        ["secret", "secrets", "[api-key]"],
        ["Secrets", "secrets", "[api-key]"],
        ["limit", "limits", "{memory: 128Mi}"],
        ["request", "requests", "{memory: 64Mi}"],
        ["label", "labels", "{team: a}"],
        ["lables", "labels", "{team: a}"],
        ["annotation", "annotations", "{topic: t}"],
        ["imgae", "image", "x/y:1"],
        ["Image", "image", "x/y:1"],
        ["fprocces", "fprocess", "./run"],
        ["f_process", "fprocess", "./run"],
        ["readonly-root-filesystem", "readonly_root_filesystem", "true"],
        ["readOnlyRootFilesystem", "readonly_root_filesystem", "true"],
        ["read_only_root_filesystem", "readonly_root_filesystem", "true"],
        ["constraint", "constraints", '["a == b"]'],
        ["namespce", "namespace", "openfaas-fn"],
        ["handlr", "handler", "./h"],
        ["lnag", "lang", "go"],
        ["build-args", "build_args", "{A: b}"],
        ["skipbuild", "skip_build", "true"],
        ["platform", "platforms", "linux/amd64"],
    ])("%s -> %s", (typo, known, value) => {
        const r = parse(fn(`    ${typo}: ${value}\n`));
        expect(r.problems).toEqual([
            {
                key: `stack.yml: functions.payments.${typo}`,
                value: typo,
                rule: `is not a key faas-cli knows, but looks like a misspelling of ${known} (faas-cli would silently ignore it)`,
                fix: `rename it to ${known}`,
            },
        ]);
        expect(r.unknownKeys).toBe(1);
        expect(r.warnings).toEqual([]);
    });
});

describe("misspellings elsewhere", () => {
    it.each([
        [`version: 1.0\nprovider:\n  name: openfaas\nfunction:\n  a:\n    image: x/a:1\n`, "stack.yml: function", "functions"],
        [`version: 1.0\nprovider:\n  name: openfaas\nFunctions:\n  a:\n    image: x/a:1\n`, "stack.yml: Functions", "functions"],
        [`version: 1.0\nprovder:\n  name: openfaas\n`, "stack.yml: provder", "provider"],
        [`verison: 1.0\nprovider:\n  name: openfaas\n`, "stack.yml: verison", "version"],
        [`version: 1.0\nprovider:\n  name: openfaas\n  gatway: http://127.0.0.1:8080\n`, "stack.yml: provider.gatway", "gateway"],
        [fn("    limits:\n      memroy: 128Mi\n"), "stack.yml: functions.payments.limits.memroy", "memory"],
        [fn("    requests:\n      CPU: 100m\n"), "stack.yml: functions.payments.requests.CPU", "cpu"],
    ])("%#: %s", (text, key, known) => {
        const r = parse(text);
        expect(r.problems.find((p) => p.key === key)).toEqual({
            key,
            value: key.split(/[ .]/).pop(),
            rule: `is not a key faas-cli knows, but looks like a misspelling of ${known} (faas-cli would silently ignore it)`,
            fix: `rename it to ${known}`,
        });
    });

    it("in an environment file", () => {
        const r = parse(fn("    environment_file: [env.yml]\n"), { "env.yml": "enviroment:\n  A: b\n" });
        expect(r.problems.map((p) => `${p.key} | ${p.rule}`)).toEqual([
            "env.yml: enviroment | is not a key faas-cli knows, but looks like a misspelling of environment (faas-cli would silently ignore it)",
            "env.yml | has no environment: map: faas-cli reads only that key, so this file would set nothing",
        ]);
    });
});

describe("other unknown keys are warnings, counted in unknownKeys", () => {
    it.each(["replicas", "x-team", "depends_on", "scale", "topic", "memory", "image_pull_policy", "healthcheck", "comment", "readonly", "env", "timeout", "ports"])("%s", (key) => {
        const r = parse(fn(`    ${key}: 1\n`));
        expect(r.problems).toEqual([]);
        expect(r.warnings).toEqual([`stack.yml: functions.payments.${key}: unknown key, ignored`]);
        expect(r.unknownKeys).toBe(1);
    });

    it("counts every unknown key of the file", () => {
        const r = parse(`version: 1.0\nx-defaults: {}\nprovider:\n  name: openfaas\n  network: func_functions\nfunctions:\n  a:\n    image: x/a:1\n    replicas: 2\n    enviroment: {}\n    limits: {memory: 1Gi, storage: 1Gi}\n`);
        expect(r.unknownKeys).toBe(5);
        expect(r.problems.map((p) => p.key)).toEqual(["stack.yml: functions.a.enviroment"]);
        expect(r.warnings).toEqual([
            "stack.yml: x-defaults: unknown key, ignored",
            "stack.yml: provider.network: unknown key, ignored",
            "stack.yml: functions.a.replicas: unknown key, ignored",
            "stack.yml: functions.a.limits.storage: unknown key, ignored",
        ]);
    });

    it("a valid file of known keys has none", () => {
        expect(parse(fn("    environment: {A: b}\n    labels: {a: b}\n")).unknownKeys).toBe(0);
    });
});

describe("likelyMisspelling", () => {
    const known = ["environment", "image", "lang", "secrets"];
    it.each([
        ["enviroment", "environment"],
        ["IMAGE", "image"],
        ["lnag", "lang"],
        ["secret", "secrets"],
        ["sercets", "secrets"],
        ["img", "image"],
        ["lng", "lang"],
    ])("%s -> %s", (k, want) => expect(likelyMisspelling(k, known)).toBe(want));

    it.each(["name", "tag", "ports", "topic", "environmental-impact", "image", "secrets"])("%s -> none", (k) => {
        expect(likelyMisspelling(k, known)).toBeUndefined();
    });
});
