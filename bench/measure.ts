/**
 * One measurement in a fresh process (a Pulumi runtime cannot be reset in-process):
 *   measure.ts plan <stack> <out>   - our full program through runPlan (includes the policy stage)
 *   measure.ts bare <manifests.json> - a bare program registering the same Deployments and Services
 * Prints one JSON line: { ms, policyMs?, maxRssMiB, resources }.
 */
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";

import * as k8s from "@pulumi/kubernetes";

import { evaluatePolicies } from "../program/plan/policy-stage";
import { Recorder } from "../program/plan/recorder";
import { runPlan } from "../program/plan/run-plan";

async function plan(stack: string, out: string): Promise<void> {
    const t0 = performance.now();
    const result = await runPlan({ stack, out, dir: path.join(__dirname, "..") });
    const ms = performance.now() - t0;
    if (result.exitCode !== 0) {
        throw new Error(`plan exited ${result.exitCode}: ${result.message}`);
    }
    const t1 = performance.now();
    evaluatePolicies(result.resources);
    const policyMs = performance.now() - t1;
    print({ ms, policyMs, resources: result.resources.length });
}

async function bare(file: string): Promise<void> {
    const manifests = JSON.parse(fs.readFileSync(file, "utf8")) as { deployments: Record<string, unknown>[]; services: Record<string, unknown>[] };
    const t0 = performance.now();
    const rec = await Recorder.start({ project: "bare", stack: "bench" });
    const provider = new k8s.Provider("k8s", { kubeconfig: "bench" });
    for (const d of manifests.deployments) {
        new k8s.apps.v1.Deployment(`d-${(d.metadata as { name: string }).name}`, d as unknown as k8s.apps.v1.DeploymentArgs, { provider });
    }
    for (const s of manifests.services) {
        new k8s.core.v1.Service(`s-${(s.metadata as { name: string }).name}`, s as unknown as k8s.core.v1.ServiceArgs, { provider });
    }
    await rec.settle();
    print({ ms: performance.now() - t0, resources: rec.records.length });
}

function print(r: Record<string, number>): void {
    process.stdout.write(`${JSON.stringify({ ...r, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

const [mode, a, b] = process.argv.slice(2);
(mode === "plan" ? plan(a, b) : bare(a)).then(
    () => process.exit(0),
    (err: unknown) => {
        console.error(err);
        process.exit(1);
    },
);
