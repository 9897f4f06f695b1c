/**
 * `npm run bench`: how the program's cost grows with the number of functions, side by side with
 * a bare Pulumi program registering the same Deployments and Services under the same mocks.
 * Each figure is measured in a fresh process, repeated, and reported as median / min / max.
 * Targets are checked here (never in unit tests); a missed target exits 1.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { FunctionSpec, parseStackYml, renderFunctionDeployment, renderFunctionService, scaleToZeroLabels } from "../components";
import { criticalPath } from "./critical-path";
import { writeBenchStack } from "./generate";

const ROOT = path.join(__dirname, "..");
const SIZES = [10, 100, 1000];
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

interface Sample {
    ms: number;
    policyMs?: number;
    maxRssMiB: number;
    resources: number;
}

function measure(args: string[]): Sample {
    const out = execFileSync(TSX, [path.join(__dirname, "measure.ts"), ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return JSON.parse(out.trim().split("\n").pop() as string) as Sample;
}

function stats(values: number[]): { median: number; min: number; max: number } {
    const s = [...values].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    return { median: round(median), min: round(s[0]), max: round(s[s.length - 1]) };
}

function round(n: number): number {
    return Math.round(n * 10) / 10;
}

/** The same objects our Functions component creates, as plain manifests for the bare program. */
function bareManifests(n: number): string {
    const file = path.join(ROOT, "bench", "out", String(n), "stack.yml");
    const parsed = parseStackYml(fs.readFileSync(file, "utf8"), { file, env: {}, readFile: () => undefined });
    const labels = scaleToZeroLabels(900);
    const fns: FunctionSpec[] = parsed.functions;
    const out = path.join(ROOT, "bench", "out", String(n), "manifests.json");
    fs.writeFileSync(
        out,
        JSON.stringify({
            deployments: fns.map((f) => renderFunctionDeployment(f, { extraLabels: labels, volumes: [], location: { country: "NO", region: "NO-03" } })),
            services: fns.map((f) => renderFunctionService(f)),
        }),
    );
    return out;
}

function main(): void {
    const results: Record<string, unknown>[] = [];
    const rows: string[][] = [];
    let critical: ReturnType<typeof criticalPath> | undefined;
    const stacks: string[] = [];
    try {
        for (const n of SIZES) {
            const stack = writeBenchStack(ROOT, n);
            stacks.push(stack);
            const manifests = bareManifests(n);
            const outDir = path.join(ROOT, "bench", "out", String(n), "plan");
            const ours: Sample[] = [];
            const bare: Sample[] = [];
            for (let i = 0; i < REPEATS; i++) {
                ours.push(measure(["plan", stack, outDir]));
                bare.push(measure(["bare", manifests]));
            }
            const entry = {
                functions: n,
                resources: { ours: ours[0].resources, bare: bare[0].resources },
                planMs: stats(ours.map((s) => s.ms)),
                bareMs: stats(bare.map((s) => s.ms)),
                policyMs: stats(ours.map((s) => s.policyMs ?? 0)),
                maxRssMiB: { ours: stats(ours.map((s) => s.maxRssMiB)), bare: stats(bare.map((s) => s.maxRssMiB)) },
                raw: { ours, bare },
            };
            results.push(entry);
            rows.push([
                String(n),
                `${entry.resources.ours} / ${entry.resources.bare}`,
                `${entry.planMs.median} (${entry.planMs.min}-${entry.planMs.max})`,
                `${entry.bareMs.median} (${entry.bareMs.min}-${entry.bareMs.max})`,
                (entry.planMs.median / entry.bareMs.median).toFixed(2),
                `${entry.policyMs.median}`,
                `${entry.maxRssMiB.ours.max} / ${entry.maxRssMiB.bare.max}`,
            ]);
            if (n === SIZES[SIZES.length - 1]) {
                critical = criticalPath(JSON.parse(fs.readFileSync(path.join(outDir, "resources.json"), "utf8")));
            }
        }
    } finally {
        for (const s of stacks) {
            fs.rmSync(path.join(ROOT, `Pulumi.${s}.yaml`), { force: true });
        }
    }

    type Entry = { planMs: { median: number }; bareMs: { median: number }; policyMs: { median: number }; maxRssMiB: { ours: { max: number } } };
    const byN = (n: number): Entry => results.find((r) => r.functions === n) as unknown as Entry;
    const big = byN(1000);
    const targets = [
        { target: "1000 functions: plan <= 1.5 x bare", ok: big.planMs.median <= 1.5 * big.bareMs.median, value: `${(big.planMs.median / big.bareMs.median).toFixed(2)} x` },
        { target: "1000 functions: plan <= 20 s", ok: big.planMs.median <= 20000, value: `${(big.planMs.median / 1000).toFixed(1)} s` },
        { target: "scaling: time(1000) / time(100) <= 11", ok: big.planMs.median / byN(100).planMs.median <= 11, value: (big.planMs.median / byN(100).planMs.median).toFixed(2) },
        { target: "policy evaluation (1000 functions) < 2 s", ok: big.policyMs.median < 2000, value: `${big.policyMs.median} ms` },
        { target: "peak memory < 1 GiB", ok: big.maxRssMiB.ours.max < 1024, value: `${big.maxRssMiB.ours.max} MiB` },
    ];

    const table = [
        ["functions", "resources (ours / bare)", "plan ms median (min-max)", "bare ms median (min-max)", "ratio", "policy ms", "peak RSS MiB (ours / bare)"],
        ...rows,
    ];
    const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
    for (const r of table) {
        process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c])).join("  ")}\n`);
    }
    process.stdout.write("\nTargets:\n");
    for (const t of targets) {
        process.stdout.write(`  ${t.ok ? "PASS" : "FAIL"}  ${t.target}: ${t.value}\n`);
    }
    if (critical) {
        process.stdout.write(`\nCritical path (${critical.length} steps, 1000 functions):\n  ${critical.chain.join("\n  -> ")}\n`);
    }

    const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
    fs.writeFileSync(
        path.join(ROOT, "bench", "results.json"),
        `${JSON.stringify({ date: new Date().toISOString(), machine, repeats: REPEATS, results, targets, criticalPath: critical }, null, 2)}\n`,
    );
    process.stdout.write(`\nraw figures: bench/results.json\n`);
    if (targets.some((t) => !t.ok)) {
        process.exit(1);
    }
}

main();
