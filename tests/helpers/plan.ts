/** Runs `npm run plan`'s CLI in a child process against a temporary stack file, as CI would. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface CliPlan {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly outDir: string;
    /** resources.json, when written. */
    resources(): Array<{ type: string; name: string; parent: string | null; inputs: Record<string, unknown>; dependsOn: string[] }>;
}

/** The prod stack's config, parsed, for tests that start from it and change one thing. */
export function prodConfig(): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    return doc.config;
}

/** Plans a stack whose config is `config` (full keys), using a temporary Pulumi.<name>.yaml. */
export function planWithConfig(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): CliPlan {
    const stack = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const stackFile = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(stackFile, yaml.dump({ config }));
    try {
        return planStack(stack, env, extraArgs);
    } finally {
        fs.rmSync(stackFile, { force: true });
    }
}

/** Plans an existing stack file. */
export function planStack(stack: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): CliPlan {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-plan-"));
    const tsx = path.join(REPO_ROOT, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [path.join(REPO_ROOT, "program", "plan", "cli.ts"), "--stack", stack, "--out", outDir, ...extraArgs], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
    return {
        status: r.status,
        stdout: r.stdout,
        stderr: r.stderr,
        outDir,
        resources: () => JSON.parse(fs.readFileSync(path.join(outDir, "resources.json"), "utf8")),
    };
}
