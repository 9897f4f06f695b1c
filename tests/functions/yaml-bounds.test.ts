/**
 * Bounded YAML: anchors and aliases work as faas-cli users write them, alias bombs and deep
 * nesting are refused, and keys named like Object.prototype members are ordinary keys (or
 * refused where the name is invalid anyway): nothing crashes, pollutes or silently disappears.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { MAX_YAML_DEPTH, MAX_YAML_NODES, parseStackYml, renderFunctionDeployment, StackYml } from "../../components";
import { ConfigReader } from "../../program/config-reader";
import { parseFunctionsConfig } from "../../program/settings/functions";

const TOP = "version: 1.0\nprovider:\n  name: openfaas\n";
const HEAD = `${TOP}functions:\n`;
const parse = (text: string, files: Record<string, string> = {}): StackYml =>
    parseStackYml(text, { file: "stack.yml", env: {}, readFile: (p) => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined) });

/** A billion-laughs document: `levels` anchors, each a list of `width` aliases of the one before. */
function laughs(levels: number, width: number, map = false): string {
    const lines = [map ? "l0: &l0 {a: lol, b: lol}" : "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i <= levels; i++) {
        const refs = Array.from({ length: width }, (_, j) => (map ? `k${j}: *l${i - 1}` : `*l${i - 1}`)).join(", ");
        lines.push(map ? `l${i}: &l${i} {${refs}}` : `l${i}: &l${i} [${refs}]`);
    }
    return lines.join("\n");
}

afterEach(() => {
    // No test may leave anything on Object.prototype.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe("alias bombs and nesting are refused with a problem", () => {
    const bomb = (r: StackYml): void => {
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([["stack.yml", `expands to more than ${MAX_YAML_NODES} YAML nodes, aliases counted each time they are used (an alias bomb)`]]);
        expect(r.functions).toEqual([]);
    };

    it("billion laughs (lists) in an unknown top-level key", () => bomb(parse(`${TOP}x-lol:\n  ${laughs(9, 9).replace(/\n/g, "\n  ")}\nfunctions: {}\n`)));
    it("billion laughs (maps)", () => bomb(parse(`${TOP}x:\n  ${laughs(9, 9, true).replace(/\n/g, "\n  ")}\n`)));
    it("a bomb inside a function's environment", () =>
        bomb(parse(`${TOP}x: &x\n  ${laughs(8, 8).replace(/\n/g, "\n  ")}\nfunctions:\n  a:\n    image: x/a:1\n    build_args: *x\n`)));
    it("a bomb used by every function", () => {
        const fns = Array.from({ length: 50 }, (_, i) => `  f${i}:\n    image: x/a:1\n    labels: *big`).join("\n");
        bomb(parse(`${TOP}x: &big\n  ${laughs(6, 8, true).replace(/\n/g, "\n  ")}\nfunctions:\n${fns}\n`));
    });
    it("a flat list longer than the budget", () => bomb(parse(`${TOP}x: [${"a,".repeat(MAX_YAML_NODES)}a]\n`)));

    it(`nesting deeper than ${MAX_YAML_DEPTH} in the text`, () => {
        const r = parse(`${TOP}x: ${"[".repeat(MAX_YAML_DEPTH + 5)}${"]".repeat(MAX_YAML_DEPTH + 5)}\n`);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].key).toMatch(/^stack\.yml line 4, column \d+$/);
        expect(r.problems[0].rule).toBe(`is not valid YAML: nesting exceeded maxDepth (${MAX_YAML_DEPTH})`);
    });

    it("nesting 100,000 deep does not overflow the stack", () => {
        const r = parse(`${TOP}x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].rule).toMatch(/^is not valid YAML: nesting exceeded maxDepth|^is too deeply nested/);
    });

    it("nesting built from a chain of aliases", () => {
        const chain = ["a0: &a0 [x]", ...Array.from({ length: MAX_YAML_DEPTH + 2 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`)].join("\n  ");
        const r = parse(`${TOP}x:\n  ${chain}\n`);
        expect(r.problems.map((p) => p.rule)).toEqual([`nests deeper than ${MAX_YAML_DEPTH} levels, aliases expanded`]);
    });

    it("an alias to an anchor that does not exist, without echoing its name", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    labels: *S3CRET-anchor\n`);
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([["stack.yml line 7, column 27", "is not valid YAML: unidentified alias"]]);
    });

    it("an unknown tag, without echoing it", () => {
        const r = parse(`${HEAD}  a:\n    image: !S3CRET x/a:1\n`);
        expect(r.problems.map((p) => p.rule)).toEqual(["is not valid YAML: unknown tag"]);
    });
});

describe("anchors, aliases and merge keys as faas-cli users write them", () => {
    it("shares settings with a merge key", () => {
        const r = parse(`${TOP}x-common: &common\n  limits: {memory: 128Mi, cpu: 100m}\n  labels: {team: platform}\nfunctions:\n  a:\n    <<: *common\n    image: x/a:1\n  b:\n    <<: *common\n    image: x/b:1\n    labels: {team: payments}\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions.map((f) => [f.name, f.limits, f.labels])).toEqual([
            ["a", { memory: "128Mi", cpu: "100m" }, { team: "platform" }],
            ["b", { memory: "128Mi", cpu: "100m" }, { team: "payments" }],
        ]);
        expect(r.warnings).toEqual(["stack.yml: x-common: unknown key, ignored"]);
    });

    it("merges several maps, the first winning", () => {
        const r = parse(`${TOP}x: [&a {fprocess: one}, &b {fprocess: two, namespace: openfaas-fn}]\nfunctions:\n  f:\n    <<: [*a, *b]\n    image: x/f:1\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions[0]).toMatchObject({ fprocess: "one", namespace: "openfaas-fn" });
    });

    it("aliases a whole environment and a scalar", () => {
        const r = parse(`${TOP}x:\n  env: &env {LOG_LEVEL: info}\n  tag: &tag ghcr.io/example-no/f:1.0.0\nfunctions:\n  f:\n    image: *tag\n    environment: *env\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions[0]).toMatchObject({ image: "ghcr.io/example-no/f:1.0.0", environment: { LOG_LEVEL: "info" } });
    });

    it("reads 1000 functions sharing one anchor within the budget", () => {
        const fns = Array.from({ length: 1000 }, (_, i) => `  f${i}:\n    <<: *d\n    image: x/f:${i}`).join("\n");
        const r = parse(`${TOP}x: &d\n  environment: {A: "1", B: "2", C: "3"}\n  labels: {team: a}\n  limits: {memory: 128Mi}\nfunctions:\n${fns}\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions).toHaveLength(1000);
    });
});

describe("keys named like Object.prototype members", () => {
    it("a function named constructor is an ordinary function", () => {
        const r = parse(`${HEAD}  constructor:\n    image: x/c:1\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions.map((f) => f.name)).toEqual(["constructor"]);
    });

    it.each(["__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"])("a function named %s is refused as not DNS-1123", (name) => {
        const r = parse(`${HEAD}  ${name}:\n    image: x/a:1\n    environment: {polluted: yes}\n`);
        expect(r.problems.map((p) => p.key)).toEqual([`stack.yml: functions.${name}`]);
        expect(r.problems[0].rule).toMatch(/^a function name must be DNS-1123/);
        expect(r.functions).toEqual([]);
    });

    it("environment keys __proto__, constructor, toString, hasOwnProperty, valueOf are ordinary variables", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    environment:\n      __proto__: {polluted: yes}\n`);
        // A map is not a text: a problem naming the key, not a prototype.
        expect(r.problems.map((p) => p.key)).toEqual(["stack.yml: functions.a.environment.__proto__"]);
        const ok = parse(`${HEAD}  a:\n    image: x/a:1\n    environment:\n      __proto__: p\n      constructor: c\n      toString: t\n      hasOwnProperty: h\n      valueOf: v\n`);
        expect(ok.problems).toEqual([]);
        const env = ok.functions[0].environment;
        expect(Object.keys(env).sort()).toEqual(["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"]);
        expect(Object.getOwnPropertyDescriptor(env, "__proto__")?.value).toBe("p");
        expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
        const d = renderFunctionDeployment(ok.functions[0], { extraLabels: {}, volumes: [], location: { country: "NO", region: "NO-03" } }) as any;
        expect(d.spec.template.spec.containers[0].env).toEqual([
            { name: "__proto__", value: "p" },
            { name: "constructor", value: "c" },
            { name: "hasOwnProperty", value: "h" },
            { name: "toString", value: "t" },
            { name: "valueOf", value: "v" },
        ]);
    });

    it("labels and annotations named constructor / toString / hasOwnProperty are ordinary keys", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    labels: {constructor: c, toString: t}\n    annotations: {hasOwnProperty: h, valueOf: v}\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].labels).toEqual({ constructor: "c", toString: "t" });
        expect(Object.keys(r.functions[0].annotations)).toEqual(["hasOwnProperty", "valueOf"]);
    });

    it("a label or annotation key __proto__ is refused as not a qualified name", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    labels: {__proto__: x}\n    annotations: {__proto__: y}\n`);
        expect(r.problems.map((p) => p.key)).toEqual(["stack.yml: functions.a.labels.__proto__", "stack.yml: functions.a.annotations.__proto__"]);
        expect(r.functions[0].labels).toEqual({});
    });

    it("__proto__ as a top-level or function key is an unknown key, warned about", () => {
        const r = parse(`${TOP}__proto__: {polluted: yes}\nfunctions:\n  a:\n    image: x/a:1\n    __proto__: {polluted: yes}\n    constructor: x\n`);
        expect(r.problems).toEqual([]);
        expect(r.warnings).toEqual(["stack.yml: __proto__: unknown key, ignored", "stack.yml: functions.a.__proto__: unknown key, ignored", "stack.yml: functions.a.constructor: unknown key, ignored"]);
        expect(r.unknownKeys).toBe(3);
    });

    it("a merge of a map holding __proto__ pollutes nothing", () => {
        const r = parse(`${TOP}x: &p {__proto__: {polluted: yes}, toString: t}\nfunctions:\n  a:\n    image: x/a:1\n    environment:\n      <<: *p\n`);
        expect(r.problems.map((p) => p.key)).toEqual(["stack.yml: functions.a.environment.__proto__"]);
    });

    it("toString as a provider or resources key does not break the reader", () => {
        const r = parse(`version: 1.0\nprovider:\n  name: openfaas\n  toString: x\nfunctions:\n  a:\n    image: x/a:1\n    limits: {toString: 1, valueOf: 2, memory: 128Mi}\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].limits).toEqual({ memory: "128Mi" });
        expect(r.unknownKeys).toBe(3);
    });

    it("an environment file holding __proto__ and constructor", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    environment_file: [env.yml]\n`, { "env.yml": "environment:\n  __proto__: p\n  constructor: c\n" });
        expect(r.problems).toEqual([]);
        expect(Object.keys(r.functions[0].environment).sort()).toEqual(["__proto__", "constructor"]);
    });

    it("an environment file named __proto__ or constructor", () => {
        const r = parse(`${HEAD}  a:\n    image: x/a:1\n    environment_file: [__proto__, constructor]\n`, {});
        expect(r.problems.map((p) => p.rule)).toEqual([
            "file not found (looked for __proto__, relative to the stack file)",
            "file not found (looked for constructor, relative to the stack file)",
        ]);
    });

    describe("secrets named like prototype members (functionSecrets)", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-proto-"));
        fs.writeFileSync(path.join(root, "stack.yml"), `${HEAD}  constructor:\n    image: x/a:1\n    secrets: [constructor, to-string]\n`);
        afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
        const run = (secrets: unknown) => {
            const r = new ConfigReader({ functionSecrets: JSON.stringify(secrets) });
            const s = parseFunctionsConfig(r, { rootDir: root, env: {}, secret: (v) => `secret(${v})` as never });
            return { s, problems: r.problems.items.map((p) => `${p.key} | ${p.rule}`) };
        };

        it("a missing secret named constructor is reported, not found on Object.prototype", () => {
            expect(run({}).problems).toEqual([
                "sovereign-faas:functionSecrets.constructor | is needed by function constructor (stack.yml) but has no values",
                "sovereign-faas:functionSecrets.to-string | is needed by function constructor (stack.yml) but has no values",
            ]);
        });

        // The config reader refuses Object.prototype names in any structured value (RESERVED_KEYS),
        // so such a secret cannot be given values: it is reported, never looked up on the prototype.
        it("a secret named constructor in functionSecrets is refused with a problem, and still reported as missing", () => {
            const { s, problems } = run(JSON.parse('{"constructor": {"__proto__": "v1"}, "to-string": {"k": "v"}}'));
            expect(problems).toContain("sovereign-faas:functionSecrets.constructor | is needed by function constructor (stack.yml) but has no values");
            expect(problems.some((p) => p.startsWith("sovereign-faas:functionSecrets.constructor | is a reserved name"))).toBe(true);
            expect(Object.keys(s.functionSecrets)).toEqual(["to-string"]);
            expect(s.functionSecrets["to-string"]).toEqual({ k: "secret(v)" });
        });

        it("a secret named __proto__ is refused and holds nothing", () => {
            const { s, problems } = run(JSON.parse('{"__proto__": {"k": "v"}, "to-string": {"k": "v"}}'));
            expect(problems.filter((p) => p.startsWith('sovereign-faas:functionSecrets.__proto__') || p.startsWith('sovereign-faas:functionSecrets."__proto__"')).length).toBeGreaterThanOrEqual(1);
            expect(Object.getOwnPropertyNames(s.functionSecrets)).not.toContain("__proto__");
            expect(Object.getPrototypeOf(s.functionSecrets)).toBe(Object.prototype);
        });
    });
});
