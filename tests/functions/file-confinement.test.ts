/**
 * The stack file and its environment files are read inside the project directory only, as
 * regular files only, within their size limits; nothing of their text reaches a message.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { formatProblems, MAX_ENVIRONMENT_FILE_BYTES, MAX_STACK_FILE_BYTES } from "../../components";
import { ConfigReader } from "../../program/config-reader";
import { parseFunctionsConfig, readProjectFile } from "../../program/settings/functions";

const SECRET = "S3CRET-c0nf1ned";
const STACK = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  payments:\n    image: ghcr.io/example-no/payments:1.0.0\n";
const withEnvFile = (f: string): string => `${STACK}    environment_file: [${JSON.stringify(f)}]\n`;

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-confine-"));
    root = path.join(base, "project");
    outside = path.join(base, "outside");
    fs.mkdirSync(path.join(root, "env"), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, "stack.yml"), STACK);
    fs.writeFileSync(path.join(outside, "env.yml"), `environment:\n  TOKEN: ${SECRET}\n`);
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

function write(rel: string, text: string | Buffer): void {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
}

function mkfifo(rel: string): void {
    const r = spawnSync("mkfifo", [path.join(root, rel)]);
    if (r.status !== 0) {
        throw new Error(`mkfifo failed: ${String(r.stderr)}`);
    }
}

/** Problems of parseFunctionsConfig as `key | value | rule`, after checking none leaks the secret. */
function problems(functions: string, env: Record<string, string> = {}): string[] {
    const r = new ConfigReader({ functions });
    parseFunctionsConfig(r, { rootDir: root, env, secret: (v) => v as never });
    const text = formatProblems(r.problems.items);
    expect(text).not.toContain(SECRET);
    return r.problems.items.map((p) => `${p.key} | ${JSON.stringify(p.value)} | ${p.rule}`);
}

describe("the stack file (sovereign-faas:functions)", () => {
    it("is read relative to the project", () => {
        write("stacks/stack.yml", STACK);
        expect(problems("stacks/stack.yml")).toEqual([]);
    });

    it.each([
        ["an absolute path", () => path.join(outside, "stack.yml"), "must be a path relative to the project directory (where Pulumi.yaml is): absolute paths (and ~) are refused so a stack cannot read files outside the project"],
        ["a Windows absolute path", () => "C:\\stack.yml", "must be a path relative to the project directory (where Pulumi.yaml is): absolute paths (and ~) are refused so a stack cannot read files outside the project"],
        ["a home path", () => "~/stack.yml", "must be a path relative to the project directory (where Pulumi.yaml is): absolute paths (and ~) are refused so a stack cannot read files outside the project"],
        ["a '..' escape", () => "../outside/stack.yml", "must stay inside the project directory ('..' leads out of it)"],
        ["a '..' escape after a directory", () => "env/../../outside/stack.yml", "must stay inside the project directory ('..' leads out of it)"],
        ["a backslash '..' escape", () => "..\\outside\\stack.yml", "must stay inside the project directory ('..' leads out of it)"],
        ["a NUL byte", () => "stack.yml\u0000.txt", "must be a file path"],
    ])("refuses %s", (_name, file, rule) => {
        expect(problems(file())).toEqual([`sovereign-faas:functions | ${JSON.stringify(file())} | ${rule}`]);
    });

    it("refuses a symbolic link that leads outside", () => {
        fs.symlinkSync(path.join(outside, "stack.yml"), path.join(root, "stack.yml"));
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is (or lies under) a symbolic link that leads outside the project directory']);
    });

    it("refuses a file under a linked directory that leads outside", () => {
        fs.symlinkSync(outside, path.join(root, "linked"));
        expect(problems("linked/stack.yml")).toEqual(['sovereign-faas:functions | "linked/stack.yml" | is (or lies under) a symbolic link that leads outside the project directory']);
    });

    it("follows a symbolic link that stays inside", () => {
        write("real/stack.yml", STACK);
        fs.symlinkSync(path.join(root, "real", "stack.yml"), path.join(root, "stack.yml"));
        expect(problems("stack.yml")).toEqual([]);
    });

    it("refuses a dangling link and reports a missing file", () => {
        fs.symlinkSync(path.join(root, "nowhere.yml"), path.join(root, "stack.yml"));
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is a symbolic link to a file that does not exist']);
        expect(problems("missing.yml")).toEqual([`sovereign-faas:functions | "missing.yml" | the stack file does not exist (looked for ${path.join(root, "missing.yml")})`]);
    });

    it("refuses a FIFO without blocking on it", () => {
        mkfifo("stack.yml");
        const started = Date.now();
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is a FIFO (named pipe), not a regular file']);
        expect(Date.now() - started).toBeLessThan(5000);
    });

    it("refuses a directory", () => {
        fs.mkdirSync(path.join(root, "stack.yml"));
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is a directory, not a regular file']);
    });

    it("refuses a character device such as /dev/zero, without reading it", () => {
        expect(readProjectFile("/dev", "zero", MAX_STACK_FILE_BYTES, "MAX_STACK_FILE_BYTES")).toEqual({ kind: "refused", refused: "is a character device, not a regular file", fix: "point it at a regular file" });
        fs.symlinkSync("/dev/zero", path.join(root, "stack.yml"));
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is (or lies under) a symbolic link that leads outside the project directory']);
    });

    it(`refuses a file over ${MAX_STACK_FILE_BYTES} bytes before reading it`, () => {
        write("stack.yml", `${STACK}# ${SECRET}\n${"#".repeat(MAX_STACK_FILE_BYTES)}\n`);
        const size = fs.statSync(path.join(root, "stack.yml")).size;
        expect(problems("stack.yml")).toEqual([`sovereign-faas:functions | "stack.yml" | is ${size} bytes; at most ${MAX_STACK_FILE_BYTES} bytes are read (MAX_STACK_FILE_BYTES)`]);
    });

    it(`reads a file of exactly ${MAX_STACK_FILE_BYTES} bytes`, () => {
        const head = `${STACK}# `;
        write("stack.yml", `${head}${"x".repeat(MAX_STACK_FILE_BYTES - head.length - 1)}\n`);
        expect(fs.statSync(path.join(root, "stack.yml")).size).toBe(MAX_STACK_FILE_BYTES);
        expect(problems("stack.yml")).toEqual([]);
    });

    it("refuses a file that is not UTF-8", () => {
        write("stack.yml", Buffer.concat([Buffer.from(STACK), Buffer.from([0xff, 0xfe, 0x0a])]));
        expect(problems("stack.yml")).toEqual(['sovereign-faas:functions | "stack.yml" | is not UTF-8 text']);
    });

    it("never echoes the neighbouring lines of a YAML error (js-yaml's snippet)", () => {
        write("stack.yml", `${STACK}    environment:\n      TOKEN: ${SECRET}\n     bad: [\n`);
        expect(problems("stack.yml")).toEqual(['stack.yml line 9, column 6 | "[text not shown]" | is not valid YAML: bad indentation of a mapping entry']);
    });
});

describe("environment files (environment_file)", () => {
    it("are read relative to the stack file, inside the project", () => {
        write("stacks/stack.yml", withEnvFile("../env/common.yml"));
        write("env/common.yml", "environment:\n  LOG_LEVEL: info\n");
        const r = new ConfigReader({ functions: "stacks/stack.yml" });
        const s = parseFunctionsConfig(r, { rootDir: root, env: {}, secret: (v) => v as never });
        expect(r.problems.items).toEqual([]);
        expect(s.functions[0].environment).toEqual({ LOG_LEVEL: "info" });
    });

    it.each([
        ["an absolute path", () => path.join(outside, "env.yml"), "must be relative to the stack file: absolute paths (and ~) are refused so a stack cannot read files outside the project"],
        ["a home path", () => "~/.aws/credentials", "must be relative to the stack file: absolute paths (and ~) are refused so a stack cannot read files outside the project"],
        ["a '..' escape", () => "../outside/env.yml", "must stay inside the project directory ('..' leads out of it)"],
        ["a deep '..' escape", () => "env/../../../../../../etc/passwd", "must stay inside the project directory ('..' leads out of it)"],
        ["an empty path", () => "", "must be a file path"],
    ])("refuse %s", (_name, f, rule) => {
        write("stack.yml", withEnvFile(f()));
        expect(problems("stack.yml")).toEqual([`stack.yml: functions.payments.environment_file[0] | ${JSON.stringify(f())} | ${rule}`]);
    });

    it("refuse a symbolic link that leads outside", () => {
        write("stack.yml", withEnvFile("env/creds.yml"));
        fs.symlinkSync(path.join(outside, "env.yml"), path.join(root, "env", "creds.yml"));
        expect(problems("stack.yml")).toEqual(['stack.yml: functions.payments.environment_file[0] | "env/creds.yml" | is (or lies under) a symbolic link that leads outside the project directory']);
    });

    it("refuse a FIFO and a directory", () => {
        write("stack.yml", `${STACK}    environment_file: [env/fifo.yml, env]\n`);
        mkfifo("env/fifo.yml");
        expect(problems("stack.yml")).toEqual([
            'stack.yml: functions.payments.environment_file[0] | "env/fifo.yml" | is a FIFO (named pipe), not a regular file',
            'stack.yml: functions.payments.environment_file[1] | "env" | is a directory, not a regular file',
        ]);
    });

    it(`refuse a file over ${MAX_ENVIRONMENT_FILE_BYTES} bytes`, () => {
        write("stack.yml", withEnvFile("env/big.yml"));
        write("env/big.yml", `environment:\n  TOKEN: ${SECRET}\n  PAD: "${"x".repeat(MAX_ENVIRONMENT_FILE_BYTES)}"\n`);
        const size = fs.statSync(path.join(root, "env", "big.yml")).size;
        expect(problems("stack.yml")).toEqual([`stack.yml: functions.payments.environment_file[0] | "env/big.yml" | is ${size} bytes; at most ${MAX_ENVIRONMENT_FILE_BYTES} bytes are read (MAX_ENVIRONMENT_FILE_BYTES)`]);
    });

    it("refuse a file that is not UTF-8, and one that is missing", () => {
        write("stack.yml", `${STACK}    environment_file: [env/latin1.yml, env/none.yml]\n`);
        write("env/latin1.yml", Buffer.from("environment:\n  CITY: Troms\xf8\n", "latin1"));
        expect(problems("stack.yml")).toEqual([
            'stack.yml: functions.payments.environment_file[0] | "env/latin1.yml" | is not UTF-8 text',
            'stack.yml: functions.payments.environment_file[1] | "env/none.yml" | file not found (looked for env/none.yml, relative to the stack file)',
        ]);
    });

    it("never echo their text on a YAML error, and never their values", () => {
        write("stack.yml", withEnvFile("env/broken.yml"));
        write("env/broken.yml", `environment:\n  TOKEN: ${SECRET}\n  bad: "unclosed\n`);
        expect(problems("stack.yml")).toEqual(['env/broken.yml line 4, column 1 | "[text not shown]" | is not valid YAML: unexpected end of the stream within a double quoted scalar']);
    });

    it("are read once when several functions share one", () => {
        write("stack.yml", `${STACK}    environment_file: [env/bad.yml]\n  other:\n    image: ghcr.io/example-no/other:1.0.0\n    environment_file: [env/bad.yml]\n`);
        write("env/bad.yml", `environment:\n  1BAD: ${SECRET}\n`);
        expect(problems("stack.yml")).toEqual([
            'env/bad.yml: environment.1BAD | "1BAD" | must be an environment variable name (Kubernetes: letters, digits, \'_\', \'-\' and \'.\', not starting with a digit, not \'.\' or \'..\')',
        ]);
    });
});
