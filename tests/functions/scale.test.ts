/**
 * Scale: at most MAX_FUNCTIONS functions, refused with a problem (never an out-of-memory crash)
 * before any function is built; the largest bench size stays within the limit.
 */
import * as fs from "fs";
import * as path from "path";

import { MAX_FUNCTIONS, MAX_STACK_FILE_BYTES, parseStackYml, StackYml } from "../../components";

const TOP = "version: 1.0\nprovider:\n  name: openfaas\n";
const parse = (text: string, readFile: (p: string) => string | undefined = () => undefined): StackYml => parseStackYml(text, { file: "stack.yml", env: {}, readFile });

function block(n: number, extra = ""): string {
    const out: string[] = [`${TOP}functions:`];
    for (let i = 0; i < n; i++) {
        out.push(`  fn-${i}:\n    image: ghcr.io/example-no/fn:1.${i}.0\n    environment: {LOG_LEVEL: info, UPSTREAM_URL: "https://api.example.no/v1"}\n    labels: {com.openfaas.scale.min: "1", com.openfaas.scale.max: "10"}${extra}`);
    }
    return `${out.join("\n")}\n`;
}

function flow(n: number): string {
    return `${TOP}functions: {${Array.from({ length: n }, (_, i) => `f${i}: {image: "x/f:${i}"}`).join(", ")}}\n`;
}

const limitProblem = (n: number) => ({
    key: "stack.yml: functions",
    value: `${n} functions`,
    rule: `holds more than ${MAX_FUNCTIONS} functions, the most this platform supports (every function is a Deployment and a Service that the program holds in memory; npm run bench checks the plan's time and memory targets at ${MAX_FUNCTIONS})`,
    fix: "split the functions over several stacks (projects), each with its own stack file",
});

describe(`at most ${MAX_FUNCTIONS} functions`, () => {
    it("is the number npm run bench checks its targets at (its largest size)", () => {
        expect(MAX_FUNCTIONS).toBe(1000);
        const bench = fs.readFileSync(path.join(__dirname, "..", "..", "bench", "run.ts"), "utf8");
        const sizes = JSON.parse(/const SIZES = (\[[^\]]*\])/.exec(bench)?.[1] ?? "[]") as number[];
        expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_FUNCTIONS);
    });

    it.each([0, 1, 10, 999, MAX_FUNCTIONS])("%i functions parse", (n) => {
        const r = parse(n === 0 ? `${TOP}functions: {}\n` : block(n));
        expect(r.problems).toEqual([]);
        expect(r.functions).toHaveLength(n);
    });

    it.each([MAX_FUNCTIONS + 1, 2 * MAX_FUNCTIONS, 5000])("%i functions are one problem, and nothing is built", (n) => {
        const r = parse(block(n));
        expect(r.problems).toEqual([limitProblem(n)]);
        expect(r.functions).toEqual([]);
    });

    it("20,000 functions are refused quickly and without building them", () => {
        const text = block(20_000);
        expect(Buffer.byteLength(text)).toBeLessThan(MAX_STACK_FILE_BYTES);
        const before = process.memoryUsage().heapUsed;
        const started = Date.now();
        const r = parse(text);
        expect(r.problems).toEqual([limitProblem(20_000)]);
        expect(r.functions).toEqual([]);
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(process.memoryUsage().heapUsed - before).toBeLessThan(1024 * 1024 * 1024);
    });

    it("20,000 functions in flow style are refused the same way", () => {
        expect(parse(flow(20_000)).problems).toEqual([limitProblem(20_000)]);
    });

    it("20,000 functions made of aliases are refused the same way", () => {
        const fns = Array.from({ length: 20_000 }, (_, i) => `  f${i}: *fn`).join("\n");
        const r = parse(`${TOP}x: &fn {image: "x/f:1", environment: {A: b}}\nfunctions:\n${fns}\n`);
        expect(r.problems).toEqual([limitProblem(20_000)]);
    });

    it("over the limit, no environment file is read", () => {
        const reads: string[] = [];
        const r = parse(block(MAX_FUNCTIONS + 1, "\n    environment_file: [env.yml]"), (p) => {
            reads.push(p);
            return "environment: {}\n";
        });
        expect(r.problems).toEqual([limitProblem(MAX_FUNCTIONS + 1)]);
        expect(reads).toEqual([]);
    });

    it(`at the limit, an environment file shared by every function is read once`, () => {
        const reads: string[] = [];
        const r = parse(block(MAX_FUNCTIONS, "\n    environment_file: [env.yml]"), (p) => {
            reads.push(p);
            return "environment: {SHARED: yes}\n";
        });
        expect(r.problems).toEqual([]);
        expect(reads).toEqual(["env.yml"]);
        expect(r.functions.every((f) => f.environment.SHARED === "yes")).toBe(true);
    });

    it(`${MAX_FUNCTIONS} functions parse within a few seconds`, () => {
        const text = block(MAX_FUNCTIONS);
        const started = Date.now();
        parse(text);
        expect(Date.now() - started).toBeLessThan(5000);
    });
});

describe("other sizes", () => {
    it(`a text over ${MAX_STACK_FILE_BYTES} bytes is refused before it is parsed`, () => {
        const text = `${TOP}# S3CRET\n${"#".repeat(MAX_STACK_FILE_BYTES)}\n`;
        const r = parse(text);
        expect(r.problems).toEqual([
            { key: "stack.yml", value: `${Buffer.byteLength(text)} bytes`, rule: `is larger than ${MAX_STACK_FILE_BYTES} bytes (the stack file limit)`, fix: "split the stack, or remove what is not deployed" },
        ]);
    });

    it("counts the limit in bytes, not characters", () => {
        const text = `${TOP}# ${"ø".repeat(MAX_STACK_FILE_BYTES / 2)}\n`;
        expect(text.length).toBeLessThan(MAX_STACK_FILE_BYTES);
        expect(parse(text).problems.map((p) => p.rule)).toEqual([`is larger than ${MAX_STACK_FILE_BYTES} bytes (the stack file limit)`]);
    });

    it("one function with 10,000 environment variables parses", () => {
        const env = Array.from({ length: 10_000 }, (_, i) => `      V${i}: "${i}"`).join("\n");
        const r = parse(`${TOP}functions:\n  a:\n    image: x/a:1\n    environment:\n${env}\n`);
        expect(r.problems).toEqual([]);
        expect(Object.keys(r.functions[0].environment)).toHaveLength(10_000);
    });

    it("a 1 MiB value parses and is kept whole", () => {
        const r = parse(`${TOP}functions:\n  a:\n    image: x/a:1\n    annotations:\n      big: "${"x".repeat(1024 * 1024)}"\n`);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].annotations.big).toHaveLength(1024 * 1024);
    });

    it("5,000 unknown keys are counted and warned about, not fatal", () => {
        const keys = Array.from({ length: 5000 }, (_, i) => `    x-extra-${i}: 1`).join("\n");
        const r = parse(`${TOP}functions:\n  a:\n    image: x/a:1\n${keys}\n`);
        expect(r.problems).toEqual([]);
        expect(r.unknownKeys).toBe(5000);
        expect(r.warnings).toHaveLength(5000);
    });
});
