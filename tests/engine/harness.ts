/**
 * The engine tier's plumbing: the real Pulumi CLI in an isolated home and file backend, and a
 * report of checks, blocked parts and timings.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO = path.resolve(__dirname, "..", "..");
/** The passphrase the engine tier's stacks are encrypted with (and the example stacks'). */
export const TEST_PASSPHRASE = "sovereign-faas-example";

/** Checks, blocked parts and timings; printed as they happen and summed up at the end. */
export class Report {
    passed = 0;
    failed = 0;
    readonly blocked: string[] = [];
    readonly timings: Array<[string, string]> = [];

    check(name: string, ok: boolean, detail = ""): boolean {
        if (ok) {
            this.passed++;
            process.stdout.write(`ok   ${name}\n`);
        } else {
            this.failed++;
            process.stdout.write(`FAIL ${name}${detail ? `\n     ${detail.split("\n").slice(0, 40).join("\n     ")}` : ""}\n`);
        }
        return ok;
    }

    block(name: string, why: string): void {
        this.blocked.push(`${name}: ${why}`);
        process.stdout.write(`BLOCKED ${name}\n     ${why}\n`);
    }

    async time<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
        const t = Date.now();
        try {
            return await fn();
        } finally {
            this.timings.push([label, `${((Date.now() - t) / 1000).toFixed(1)}s`]);
        }
    }

    say(line: string): void {
        process.stdout.write(`${line}\n`);
    }
}

export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
}

/** The real CLI with its own PULUMI_HOME and file backend, so nothing of the user's is touched. */
export class PulumiCli {
    readonly env: NodeJS.ProcessEnv;
    readonly home: string;

    constructor(
        readonly work: string,
        pathPrefix: string[],
    ) {
        this.home = path.join(work, "pulumi-home");
        fs.mkdirSync(path.join(work, "state"), { recursive: true });
        fs.mkdirSync(this.home, { recursive: true });
        this.env = {
            ...process.env,
            PATH: [...pathPrefix, process.env.PATH ?? ""].join(":"),
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
        };
    }

    run(args: string[], opts: { cwd: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Run {
        const t = Date.now();
        const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: opts.cwd, env: { ...this.env, ...(opts.env ?? {}) }, encoding: "utf8", input: opts.input, timeout: opts.timeoutMs ?? 900_000, maxBuffer: 256 * 1024 * 1024 });
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", ms: Date.now() - t };
    }
}

/** Whether an executable is on a PATH. */
export function onPath(name: string, pathValue: string): string | undefined {
    for (const dir of pathValue.split(":")) {
        const p = path.join(dir, name);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return p;
        } catch {
            // not here
        }
    }
    return undefined;
}

/**
 * What a CLI run said that matters: its error and warning lines and the last lines of its output,
 * without the echo of remote scripts (one line each, thousands of characters long).
 */
export function diagnostics(r: { status: number | null; stdout: string; stderr: string }, tail = 25): string {
    const lines = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.length <= 400 && l.trim() !== "");
    const notable = lines.filter((l) => /error|ERROR|fail|warning:/i.test(l));
    return [`exit ${r.status}`, ...notable.slice(0, 30), "--- last lines:", ...lines.slice(-tail)].join("\n");
}

export function tmpdir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
