/**
 * The port against the real Go code: every case of tests/functions/fixtures/envsubst-oracle.json
 * was run through github.com/drone/envsubst v1.0.3, go-sdk v0.2.22's stack parser and yaml.v3
 * (tests/functions/oracle/run.sh); here the TypeScript port must give the same answer.
 */
import * as fs from "fs";
import * as path from "path";

import { EnvsubstError, executeEnvsubst, FunctionSpec, parseEnvsubst, parseStackYml } from "../../components";

interface Expect {
    ok: boolean;
    output?: string;
    outputBase64?: string;
    error?: string;
}
interface OracleFunction {
    image: string;
    fprocess: string;
    environment: Record<string, string> | null;
    secrets: string[] | null;
    labels: Record<string, string> | null;
    annotations: Record<string, string> | null;
    limits: { memory: string; cpu: string } | null;
    requests: { memory: string; cpu: string } | null;
    readonly_root_filesystem: boolean;
    constraints: string[] | null;
    namespace: string;
}
interface Fixture {
    go: string;
    modules: Record<string, string>;
    env: Record<string, string>;
    stackEnv: Record<string, string>;
    envsubst: Array<{ id: string; input?: string; inputBase64?: string; env?: Record<string, string>; expect: Expect }>;
    stacks: Array<{ id: string; text: string; expect: { ok: boolean; error?: string; stack?: { version: string; provider: string; functions: Record<string, OracleFunction> } } }>;
    envFiles: Array<{ id: string; text: string; expect: { ok: boolean; environment?: Record<string, string>; error?: string } }>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "envsubst-oracle.json"), "utf8")) as Fixture;

describe("the oracle fixture", () => {
    it("was produced by the module versions faas-cli 0.18.12 vendors, with 200+ envsubst cases", () => {
        expect(fixture.modules).toEqual({ "github.com/drone/envsubst": "v1.0.3", "github.com/openfaas/go-sdk": "v0.2.22", "gopkg.in/yaml.v3": "v3.0.1" });
        expect(fixture.envsubst.length).toBeGreaterThanOrEqual(200);
        expect(new Set(fixture.envsubst.map((c) => c.id)).size).toBe(fixture.envsubst.length);
    });

    it("holds errors, crashes, non-UTF-8 results and every operator", () => {
        const errors = fixture.envsubst.filter((c) => !c.expect.ok && !c.expect.error?.startsWith("panic:"));
        const panics = fixture.envsubst.filter((c) => c.expect.error?.startsWith("panic:"));
        expect(errors.length).toBeGreaterThanOrEqual(40);
        expect(panics.length).toBeGreaterThanOrEqual(3);
        expect(fixture.envsubst.filter((c) => c.expect.outputBase64 !== undefined).length).toBeGreaterThanOrEqual(3);
        for (const op of [":-", ":=", ":?", ":+", "=", "#", "##", "%", "%%", "/", "//", "/#", "/%", "^", "^^", ",", ",,", ":1:2", "$$", "\\\\", "\\/"]) {
            expect(fixture.envsubst.some((c) => (c.input ?? "").includes(op))).toBe(true);
        }
    });
});

function ours(input: string | Buffer, env: Record<string, string>): Expect {
    try {
        const t = parseEnvsubst(input);
        const out = executeEnvsubst(t, (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : ""));
        try {
            return { ok: true, output: new TextDecoder("utf-8", { fatal: true }).decode(out) };
        } catch {
            return { ok: true, outputBase64: out.toString("base64") };
        }
    } catch (err) {
        if (!(err instanceof EnvsubstError)) {
            throw err;
        }
        return { ok: false, error: err.kind === "crash" ? "panic" : err.reason };
    }
}

describe("envsubst: the port gives upstream's answer", () => {
    it.each(fixture.envsubst.map((c) => [c.id, c] as const))("%s", (_id, c) => {
        const input = c.inputBase64 !== undefined ? Buffer.from(c.inputBase64, "base64") : (c.input as string);
        const want = c.expect.error?.startsWith("panic:") ? { ok: false, error: "panic" } : c.expect;
        expect(ours(input, c.env ?? fixture.env)).toEqual(want);
    });

    it("reports every syntax error with a line and column, and never the text", () => {
        const failing = fixture.envsubst.filter((c) => !c.expect.ok && !c.expect.error?.startsWith("panic:") && c.input !== undefined);
        for (const c of failing) {
            try {
                parseEnvsubst(c.input as string);
                throw new Error(`${c.id} parsed`);
            } catch (err) {
                expect(err).toBeInstanceOf(EnvsubstError);
                const e = err as EnvsubstError;
                expect(e.position?.line).toBeGreaterThanOrEqual(1);
                expect(e.message).toMatch(/^line \d+, column \d+: [a-z ]+$/);
            }
        }
    });
});

/** The cases where we refuse on purpose what faas-cli accepts, with the key the problem names. */
const STRICTER: Record<string, string> = {
    "empty-function.yml": "empty-function.yml: functions.a.image",
    "image-uppercase.yml": "image-uppercase.yml: functions.a.image",
    "numeric-function-name.yml": "numeric-function-name.yml: functions.123",
    "typo-environment.yml": "typo-environment.yml: functions.a.enviroment",
    "typo-top-level.yml": "typo-top-level.yml: function",
};

function fromOracle(name: string, f: OracleFunction): FunctionSpec {
    const res = (r: { memory: string; cpu: string } | null) => ({ ...(r?.memory ? { memory: r.memory } : {}), ...(r?.cpu ? { cpu: r.cpu } : {}) });
    const nodeSelector = Object.fromEntries(
        (f.constraints ?? []).map((c) => {
            const m = /^\s*(\S+?)\s*==?\s*(\S+)\s*$/.exec(c) as RegExpExecArray;
            return [m[1], m[2]];
        }),
    );
    return {
        name,
        image: f.image,
        ...(f.fprocess ? { fprocess: f.fprocess } : {}),
        environment: f.environment ?? {},
        secrets: f.secrets ?? [],
        labels: f.labels ?? {},
        annotations: f.annotations ?? {},
        limits: res(f.limits),
        requests: res(f.requests),
        readonlyRootFilesystem: f.readonly_root_filesystem,
        nodeSelector,
        ...(f.namespace ? { namespace: f.namespace } : {}),
    };
}

describe("stack files: our parser reads what go-sdk reads", () => {
    it("covers go-sdk's and faas-cli's own test cases and more (40+ files)", () => {
        expect(fixture.stacks.length).toBeGreaterThanOrEqual(40);
        expect(fixture.stacks.filter((c) => !c.expect.ok).length).toBeGreaterThanOrEqual(15);
    });

    it.each(fixture.stacks.map((c) => [c.id, c] as const))("%s", (id, c) => {
        const r = parseStackYml(c.text, { file: id, env: fixture.stackEnv, readFile: () => undefined, substituteEnv: ["TAG", "FN_*"] });
        if (STRICTER[id] !== undefined) {
            expect(c.expect.ok).toBe(true);
            expect(r.problems.map((p) => p.key)).toContain(STRICTER[id]);
            return;
        }
        if (!c.expect.ok) {
            expect(r.problems.length).toBeGreaterThan(0);
            return;
        }
        expect(r.problems).toEqual([]);
        const want = Object.entries(c.expect.stack?.functions ?? {})
            .map(([name, f]) => fromOracle(name, f))
            .sort((a, b) => a.name.localeCompare(b.name));
        expect([...r.functions].sort((a, b) => a.name.localeCompare(b.name))).toEqual(want);
    });
});

describe("environment files: read as faas-cli's readFiles reads them", () => {
    const stack = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  a:\n    image: example-no/a:1.0.0\n    environment_file: [env.yml]\n";
    // faas-cli reads nothing from a file without environment: (it ignores the other keys); we say so.
    const STRICTER_ENV: Record<string, string> = { "bare-map": "env.yml" };

    it.each(fixture.envFiles.map((c) => [c.id, c] as const))("%s", (id, c) => {
        const r = parseStackYml(stack, { file: "stack.yml", env: {}, readFile: (p) => (p === "env.yml" ? c.text : undefined) });
        if (STRICTER_ENV[id] !== undefined) {
            expect(c.expect.ok).toBe(true);
            expect(r.problems.map((p) => p.key)).toContain(STRICTER_ENV[id]);
        } else if (!c.expect.ok) {
            expect(r.problems.length).toBeGreaterThan(0);
        } else {
            expect(r.problems).toEqual([]);
            expect(r.functions[0].environment).toEqual(c.expect.environment ?? {});
        }
    });
});
