/**
 * `npm run test:engine`: the real Pulumi engine. The CLI, the nodejs language host, the
 * Kubernetes provider and a Kubernetes control plane are built from Go modules
 * (tests/engine/tools/build.sh); this runs what a user runs against them:
 *
 *  1. cli-config   the real CLI reads the shipped stacks (declarations, types, secrets under the
 *                  test passphrase) and refuses the broken ones for the reasons npm run plan gives;
 *                  the README's Quick start runs literally on a new stack and plans with exit 0;
 *  2. cluster      pulumi preview, up, up --expect-no-changes and destroy of the library's cluster
 *                  objects against a real API server; every pod template dry-run as a Pod under its
 *                  namespace's Pod Security labels; a scaled function survives an update;
 *  3. crossguard   pulumi preview --policy-pack: the verdicts equal npm run plan's;
 *  4. host         pulumi up of the host components against the Debian VM: apply, no-change,
 *                  kernel change in place, K3s bump planned as an update, migration, destroy.
 *
 * Exit: 0 when every part ran and passed; 1 when a check failed, or a tool could not be built for a
 * reason other than the Go module proxy's refusal (no Go, a compile error: the machine cannot build
 * the tools); 4 when every part that ran passed but a part is BLOCKED because the proxy refuses a
 * module it needs, named with its version. .ci/run accepts 4 and prints the blocked parts; it is
 * never silent. SOVEREIGN_FAAS_ENGINE_EXTRA_PATH puts more tools first on PATH (plugins built or
 * installed elsewhere, for a local run of the blocked parts).
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

import { renderCoreNetworkPolicies, renderEdgeNetworkPolicies, renderFunctionNetworkPolicies } from "../../components";
import { RULES } from "../../policies/rules";
import { crypterFromSalt } from "../../program/plan/passphrase";
import { ControlPlane, kube, startControlPlane } from "./control-plane";
import { diagnostics, onPath, PulumiCli, Report, REPO, TEST_PASSPHRASE, tmpdir } from "./harness";

const report = new Report();
const CACHE = process.env.SOVEREIGN_FAAS_ENGINE_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "sovereign-faas", "engine");
const work = tmpdir("sfaas-engine-");
const NODE_DIR = path.dirname(process.execPath);
const PATH_PREFIX = [...(process.env.SOVEREIGN_FAAS_ENGINE_EXTRA_PATH ?? "").split(":").filter((p) => p !== ""), NODE_DIR, path.join(CACHE, "bin", "current")];
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");

/** What build.sh produced: name -> { status, module }. */
function toolStatus(): Record<string, { status: string; module: string }> {
    const file = path.join(CACHE, "status");
    const out: Record<string, { status: string; module: string }> = {};
    for (const line of fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : []) {
        const [name, status, module] = line.split(" ");
        out[name] = { status, module: module?.replace(/_/g, " ") };
    }
    return out;
}

const pathValue = (): string => [...PATH_PREFIX, process.env.PATH ?? ""].join(":");

/** A tool on the test PATH, or why not (the proxy's refusal recorded by build.sh). */
function tool(name: string): { ok: true; path: string } | { ok: false; why: string } {
    const found = onPath(name, pathValue());
    if (found !== undefined) {
        return { ok: true, path: found };
    }
    const s = toolStatus()[name];
    return { ok: false, why: s === undefined ? `${name} is not built` : `${name}: ${s.status} (${s.module}): the Go module proxy answers 403 "This module version is not available"` };
}

/** npm run plan for a project dir and stack, in a child process; its stderr and policy.json. */
function plan(dir: string, stack: string, extra: string[] = []): { status: number | null; stderr: string; stdout: string; out: string } {
    const out = path.join(work, `plan-${path.basename(dir)}-${stack}-${Date.now()}`);
    const r = spawnSync(TSX, [path.join(REPO, "program", "plan", "cli.ts"), "--dir", dir, "--stack", stack, "--out", out, ...extra], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE },
    });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout, out };
}

// --- 1. The real CLI reads the shipped stacks ----------------------------------------------------

/** A copy of the project whose program only parses the config with the program's own parser. */
function configProject(stackFiles: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(work, "config-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `${fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")}main: config-check.ts\n`);
    for (const f of ["stack.yml", "env"]) {
        fs.cpSync(path.join(REPO, f), path.join(dir, f), { recursive: true });
    }
    for (const [name, text] of Object.entries(stackFiles)) {
        fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "config-check", main: "config-check.ts" }));
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: path.join(REPO, "tsconfig.json"), include: ["config-check.ts"] }));
    fs.writeFileSync(
        path.join(dir, "config-check.ts"),
        `import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from ${JSON.stringify(path.join(REPO, "program", "config"))};
import { asRunError, readRawConfig, readSecretPaths } from ${JSON.stringify(path.join(REPO, "program", "load"))};
let config;
try {
    config = parseStackConfig(readRawConfig(), { rootDir: __dirname, env: process.env, secretPaths: readSecretPaths(__dirname) });
} catch (err) {
    throw asRunError(err);
}
export const host = config.host;
export const edition = config.openfaas.edition;
export const functions = config.functions.functions.map((f) => f.name);
export const keySha256 = config.sshPrivateKey.apply((k) => createHash("sha256").update(k).digest("hex"));
export const keyIsSecret = pulumi.isSecret(config.sshPrivateKey);
`,
    );
    return dir;
}

const EXAMPLE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nexample-not-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

async function cliConfig(cli: PulumiCli): Promise<void> {
    for (const stack of ["prod", "dev"]) {
        const dir = configProject({ [stack]: fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8") });
        cli.run(["stack", "init", stack], { cwd: dir });
        const up = await report.time(`cli-config: pulumi up of the ${stack} stack's config`, () => cli.run(["up", "--yes", "--skip-preview"], { cwd: dir }));
        report.check(`cli-config: the real CLI accepts the ${stack} example stack (declarations, types, secrets under the test passphrase)`, up.status === 0, up.stdout + up.stderr);
        const out = cli.run(["stack", "output", "--json", "--show-secrets"], { cwd: dir });
        let outputs: Record<string, unknown> = {};
        try {
            outputs = JSON.parse(out.stdout) as Record<string, unknown>;
        } catch {
            outputs = {};
        }
        report.check(
            `cli-config: the CLI decrypts the ${stack} stack's SSH key, encrypted by the plan's own crypter, to the example key, and the program keeps it secret`,
            outputs.keySha256 === createHash("sha256").update(EXAMPLE_KEY).digest("hex") && outputs.keyIsSecret === true,
            JSON.stringify(outputs),
        );
        report.check(`cli-config: the program's parser read the ${stack} config through the real runtime`, typeof outputs.host === "string" && Array.isArray(outputs.functions) && (outputs.functions as unknown[]).length === 3, JSON.stringify(outputs));
        // The other way round: a secret the CLI encrypts is one the plan decrypts.
        cli.run(["config", "set", "--secret", "sovereign-faas:sshHostKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIcliencrypted"], { cwd: dir });
        const text = fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
        const salt = /^encryptionsalt: (\S+)$/m.exec(text)?.[1] ?? "";
        const cipher = /sovereign-faas:sshHostKey:\n\s+secure: (\S+)/.exec(text)?.[1] ?? "";
        let plain = "";
        try {
            plain = crypterFromSalt(TEST_PASSPHRASE, salt).decrypt(cipher);
        } catch (err) {
            plain = `error: ${(err as Error).message}`;
        }
        report.check(`cli-config: the plan decrypts a value the CLI encrypted in the ${stack} stack`, plain === "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIcliencrypted", plain);
    }

    // Stacks the CLI refuses: the plan refuses them too, quoting the CLI's reason.
    const prod = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8");
    const salt = /^encryptionsalt: \S+$/m.exec(prod)?.[0] ?? "";
    const cases: Array<{ name: string; stack: string; cli: RegExp }> = [
        { name: "missing", stack: `${salt}\nconfig:\n  sovereign-faas:sshUser: root\n`, cli: /Stack 'missing' is missing configuration values 'firewall', 'host', 'location' and 'sshPrivateKey'/ },
        { name: "badport", stack: prod.replace("sovereign-faas:sshPort: 22", "sovereign-faas:sshPort: twenty-two"), cli: /Stack 'badport' with configuration key 'sshPort' must be of type 'integer'/ },
        { name: "plainkey", stack: prod.replace(/sovereign-faas:sshPrivateKey:\n\s+secure: \S+/, 'sovereign-faas:sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----"'), cli: /Stack 'plainkey' with configuration key 'sshPrivateKey' must be encrypted as it's secret/ },
    ];
    for (const c of cases) {
        const dir = configProject({ [c.name]: c.stack });
        cli.run(["stack", "init", c.name], { cwd: dir });
        const pv = cli.run(["preview"], { cwd: dir });
        const p = plan(dir, c.name);
        const cliSays = c.cli.exec(pv.stdout + pv.stderr)?.[0];
        report.check(
            `cli-config: the CLI refuses the ${c.name} stack ("${cliSays ?? c.cli.source}"), and npm run plan exits 2 quoting the same words`,
            pv.status !== 0 && cliSays !== undefined && p.status === 2 && p.stderr.includes(cliSays),
            `cli (${pv.status}): ${pv.stdout}${pv.stderr}\nplan (${p.status}): ${p.stderr}`,
        );
    }
}

/** The README's Quick start block, one command per line. */
export function quickStartCommands(readme: string): string[] {
    const section = readme.slice(readme.indexOf("\n## Quick start"));
    const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    return block.split("\n").filter((l) => l.trim() !== "");
}

/**
 * The Quick start, literally, on a fresh copy of the project: every command but the final
 * `pulumi up` (it would deploy to the documentation address 192.0.2.10) runs in one bash with the
 * real CLI, a HOME of its own holding ~/.ssh/id_ed25519, and the passphrase the block exports.
 * Only the backend differs from a user's machine: the test's own file backend, not ~/.pulumi.
 * Then the real CLI previews the resulting stack file with the program's config parser: the
 * stack has every required key, and its secrets decrypt under the user's passphrase.
 */
async function quickStart(cli: PulumiCli): Promise<void> {
    const commands = quickStartCommands(fs.readFileSync(path.join(REPO, "README.md"), "utf8"));
    if (!report.check("quick-start: the README's Quick start is one bash block that ends in pulumi up", commands.length >= 5 && commands[commands.length - 1] === "pulumi up", commands.join("\n"))) {
        return;
    }
    const dir = fs.mkdtempSync(path.join(work, "quick-start-"));
    for (const f of ["Pulumi.yaml", "index.ts", "stack.yml", "env", "package.json", "tsconfig.json"]) {
        fs.cpSync(path.join(REPO, f), path.join(dir, f), { recursive: true });
    }
    for (const f of ["components", "program", "policies", "node_modules"]) {
        fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
    }
    const home = fs.mkdtempSync(path.join(work, "home-"));
    fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
    fs.writeFileSync(path.join(home, ".ssh", "id_ed25519"), EXAMPLE_KEY, { mode: 0o600 });
    const script = ["set -euo pipefail", ...commands.slice(0, -1).map((c) => `echo "+ ${c.replace(/["$`\\]/g, "\\$&")}" >&2\n${c}`)].join("\n");
    // `pulumi login --local` means file://~, which the CLI resolves through the passwd entry, not
    // $HOME: PULUMI_BACKEND_URL (which the CLI prefers to the stored login) keeps the stacks in
    // the test's own directory. The passphrase is the one the block exports.
    const { PULUMI_CONFIG_PASSPHRASE: _unset, ...env } = cli.env;
    const run = await report.time("quick-start: the README's commands", () => spawnSync("bash", ["-c", script], { cwd: dir, env: { ...env, HOME: home }, encoding: "utf8", timeout: 600_000 }));
    const stackName = /pulumi stack init (\S+)/.exec(commands.join("\n"))?.[1] ?? "";
    report.check(
        `quick-start: every command up to pulumi up exits 0, npm run plan included, on the new stack ${stackName}`,
        run.status === 0 && fs.existsSync(path.join(dir, "out", "plan", stackName, "resources.json")),
        `${run.stdout}\n${run.stderr}`,
    );
    const stackFile = path.join(dir, `Pulumi.${stackName}.yaml`);
    if (!fs.existsSync(stackFile)) {
        return;
    }
    const passphrase = /export PULUMI_CONFIG_PASSPHRASE='([^']*)'/.exec(commands.join("\n"))?.[1] ?? "";
    const check = configProject({ [stackName]: fs.readFileSync(stackFile, "utf8") });
    // The stack exists in the backend since the block's `stack init`; this copy only selects it.
    cli.run(["stack", "select", stackName], { cwd: check, env: { PULUMI_CONFIG_PASSPHRASE: passphrase } });
    const up = cli.run(["up", "--yes", "--skip-preview"], { cwd: check, env: { PULUMI_CONFIG_PASSPHRASE: passphrase } });
    const out = cli.run(["stack", "output", "keyIsSecret"], { cwd: check, env: { PULUMI_CONFIG_PASSPHRASE: passphrase } });
    report.check(
        "quick-start: the real CLI runs the program's config parser on that stack under the user's passphrase, and the SSH key stays secret",
        up.status === 0 && out.stdout.trim() === "true",
        `${up.stdout}${up.stderr}\n${out.stdout}${out.stderr}`,
    );
}

// --- 2. The library's cluster objects against a real API server ----------------------------------

const PROJECT = path.join(REPO, "tests", "engine", "project");

async function waitGone(cp: ControlPlane, apiPath: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if ((await kube(cp, "GET", apiPath)).status === 404) {
            return true;
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
    return false;
}

/** Every pod template of the Deployments in a namespace, submitted as a Pod with a server-side dry run. */
async function dryRunPods(cp: ControlPlane, namespace: string): Promise<Array<{ name: string; status: number; warnings: string[]; message?: string }>> {
    const list = await kube(cp, "GET", `/apis/apps/v1/namespaces/${namespace}/deployments`);
    const out: Array<{ name: string; status: number; warnings: string[]; message?: string }> = [];
    for (const d of list.body.items ?? []) {
        const pod = { apiVersion: "v1", kind: "Pod", metadata: { ...d.spec.template.metadata, name: `dryrun-${d.metadata.name}`, namespace }, spec: d.spec.template.spec };
        const r = await kube(cp, "POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, pod);
        out.push({ name: d.metadata.name, status: r.status, warnings: r.warnings, ...(r.status >= 300 ? { message: r.body?.message } : {}) });
    }
    return out;
}

async function cluster(cli: PulumiCli, cp: ControlPlane): Promise<void> {
    const stack = "valid";
    cli.run(["stack", "init", stack], { cwd: PROJECT });
    cli.run(["config", "set", "--secret", "kubeconfig"], { cwd: PROJECT, input: cp.kubeconfig });
    const pv = await report.time("cluster: pulumi preview", () => cli.run(["preview"], { cwd: PROJECT }));
    report.check("cluster: pulumi preview of the library's cluster objects passes (the provider dry-runs them against the API server)", pv.status === 0, pv.stdout + pv.stderr);
    const up = await report.time("cluster: pulumi up", () => cli.run(["up", "--yes", "--skip-preview"], { cwd: PROJECT }));
    report.check("cluster: pulumi up creates them: server-side validation passes", up.status === 0, up.stdout + up.stderr);

    const ns = await kube(cp, "GET", "/api/v1/namespaces/openfaas-fn");
    report.check(
        "cluster: the functions' namespace carries the jurisdiction and Pod Security labels",
        ns.body?.metadata?.labels?.["sovereign-faas.io/jurisdiction"] === "NO" && ns.body?.metadata?.labels?.["pod-security.kubernetes.io/enforce"] === "privileged",
        JSON.stringify(ns.body?.metadata?.labels),
    );
    const secrets = await kube(cp, "GET", "/api/v1/namespaces/openfaas/secrets/gateway-tls");
    report.check("cluster: the TLS Secret is stored as kubernetes.io/tls", secrets.body?.type === "kubernetes.io/tls", JSON.stringify(secrets.body?.type));
    const ingresses = await kube(cp, "GET", "/apis/networking.k8s.io/v1/namespaces/openfaas/ingresses");
    report.check("cluster: the three mergeable Ingresses exist", (ingresses.body?.items ?? []).length === 3, JSON.stringify((ingresses.body?.items ?? []).map((i: { metadata: { name: string } }) => i.metadata.name)));
    // The network policies passed server-side validation (pulumi up above); here, every one the
    // renderers produce is stored, in its namespace.
    const location = { country: "NO", region: "NO-03" };
    const expected = [
        ...renderFunctionNetworkPolicies({ location, functionEgress: { payments: [{ cidr: "198.51.100.0/24", ports: [443] }] }, globalEgress: [{ cidr: "203.0.113.0/24", ports: [443] }] }),
        ...renderCoreNetworkPolicies({ location, edition: "ce", nodeAddress: "192.0.2.10", connector: true, callbackEgress: [], acme: true, edgeNamespace: "nginx-ingress" }),
        ...renderEdgeNetworkPolicies({ location, namespace: "nginx-ingress", nodeAddress: "192.0.2.10", acme: false, certManagerNamespace: "cert-manager" }),
    ].map((p) => `${(p.metadata as { namespace: string }).namespace}/${(p.metadata as { name: string }).name}`);
    const stored: string[] = [];
    for (const ns of ["openfaas", "openfaas-fn", "nginx-ingress"]) {
        const list = await kube(cp, "GET", `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`);
        stored.push(...(list.body?.items ?? []).map((i: { metadata: { name: string } }) => `${ns}/${i.metadata.name}`));
    }
    report.check(`cluster: all ${expected.length} NetworkPolicies (default deny, DNS, components, declared egress over IPv4 and IPv6) pass server-side validation and are stored`, JSON.stringify([...stored].sort()) === JSON.stringify([...expected].sort()), `stored: ${stored.join(", ")}\nexpected: ${expected.join(", ")}`);

    const again = await report.time("cluster: pulumi up --expect-no-changes", () => cli.run(["up", "--yes", "--skip-preview", "--expect-no-changes"], { cwd: PROJECT }));
    report.check("cluster: a second pulumi up changes nothing (--expect-no-changes)", again.status === 0, again.stdout + again.stderr);

    for (const namespace of ["openfaas-fn"]) {
        const pods = await dryRunPods(cp, namespace);
        report.check(
            `cluster: every pod template in ${namespace} is admitted as a Pod by Pod Security (dry run), with no warning`,
            pods.length === 2 && pods.every((p) => p.status === 201 && p.warnings.length === 0),
            JSON.stringify(pods),
        );
    }
    // The dry run can fail: the same hostPath pod in a namespace enforcing restricted is refused.
    await kube(cp, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "restricted-probe", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } });
    const reader = (await kube(cp, "GET", "/apis/apps/v1/namespaces/openfaas-fn/deployments/reader")).body;
    const refused = await kube(cp, "POST", "/api/v1/namespaces/restricted-probe/pods?dryRun=All", { apiVersion: "v1", kind: "Pod", metadata: { name: "probe" }, spec: reader?.spec?.template?.spec });
    report.check("cluster: (control) Pod Security refuses the hostPath pod in a namespace that enforces restricted", refused.status === 403 && /violates PodSecurity "restricted:latest".*hostPath/.test(String(refused.body?.message)), JSON.stringify(refused.body?.message));
    await kube(cp, "DELETE", "/api/v1/namespaces/restricted-probe");

    // A scaler changes replicas; an update of the function keeps the scaler's value.
    const scaled = await kube(cp, "PATCH", "/apis/apps/v1/namespaces/openfaas-fn/deployments/payments/scale?fieldManager=engine-test-scaler", { spec: { replicas: 3 } }, "application/merge-patch+json");
    cli.run(["config", "set", "release", "2"], { cwd: PROJECT });
    const update = await report.time("cluster: pulumi up after a scaler scaled a function", () => cli.run(["up", "--yes", "--skip-preview"], { cwd: PROJECT }));
    const payments = (await kube(cp, "GET", "/apis/apps/v1/namespaces/openfaas-fn/deployments/payments")).body;
    const env = payments?.spec?.template?.spec?.containers?.[0]?.env ?? [];
    report.check(
        "cluster: a function updated after a scaler set its replicas keeps the scaler's replicas (ignoreChanges spec.replicas under server-side apply)",
        scaled.status === 200 && update.status === 0 && payments?.spec?.replicas === 3 && env.some((e: { name: string; value: string }) => e.name === "RELEASE" && e.value === "2"),
        `scale ${scaled.status}; up ${update.status}: ${diagnostics(update)}\nreplicas ${payments?.spec?.replicas}, env ${JSON.stringify(env)}`,
    );

    const down = await report.time("cluster: pulumi destroy", () => cli.run(["destroy", "--yes", "--skip-preview"], { cwd: PROJECT }));
    const gone = await waitGone(cp, "/api/v1/namespaces/openfaas-fn", 120_000);
    report.check("cluster: pulumi destroy completes and the namespaces are finalized (kube-controller-manager)", down.status === 0 && gone, down.stdout + down.stderr);
    cli.run(["stack", "rm", stack, "--yes"], { cwd: PROJECT });
    report.say(`     control plane RSS (MiB): ${JSON.stringify(cp.rss())}`);
}


// --- 3. CrossGuard: the real policy pack's verdicts against npm run plan's -----------------------

interface Verdict {
    policy: string;
    level: string;
    type: string;
    name: string;
    message: string;
}

/** The policy events of a streamed `pulumi preview --json`. */
function crossGuardVerdicts(stdout: string): { verdicts: Verdict[]; cannotRun: string[] } {
    const verdicts: Verdict[] = [];
    const cannotRun: string[] = [];
    for (const line of stdout.split("\n")) {
        let ev: { policyEvent?: { resourceUrn?: string; message: string; policyName: string; enforcementLevel: string } };
        try {
            ev = JSON.parse(line);
        } catch {
            continue;
        }
        const p = ev.policyEvent;
        if (p === undefined) {
            continue;
        }
        if (/can't run policy .* during preview/.test(p.message)) {
            cannotRun.push(`${p.policyName}: ${p.message}`);
            continue;
        }
        const urn = p.resourceUrn ?? "";
        const parts = urn.split("::");
        // The CLI prefixes each violation with the policy's description, on a line of its own.
        const description = RULES.find((r) => r.name === p.policyName)?.description;
        const message = description !== undefined && p.message.startsWith(`${description}\n`) ? p.message.slice(description.length + 1) : p.message;
        verdicts.push({ policy: p.policyName, level: p.enforcementLevel, type: (parts[2] ?? "").split("$").pop() ?? "", name: parts[3] ?? "", message: message.trim() });
    }
    return { verdicts, cannotRun };
}

function planVerdicts(out: string): Verdict[] {
    const file = path.join(out, "policy.json");
    const results = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Array<{ policy: string; enforcementLevel: string; type: string; name: string; message: string }>) : [];
    return results.map((r) => ({ policy: r.policy, level: r.enforcementLevel, type: r.type, name: r.name, message: r.message }));
}

const key = (v: Verdict): string => `${v.policy} | ${v.level} | ${v.type} ${v.name} | ${v.message}`;

/** Runs the pack with the real CLI on one stack of a project and compares with the offline plan. */
function compareVerdicts(cli: PulumiCli, dir: string, stack: string, label: string, policyConfig?: string): void {
    const extra = policyConfig === undefined ? [] : ["--policy-pack-config", policyConfig];
    const pv = cli.run(["preview", "--stack", stack, "--json", "--policy-pack", path.join(REPO, "policies"), ...extra], { cwd: dir, env: { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "1" } });
    const cg = crossGuardVerdicts(pv.stdout);
    const p = plan(dir, stack, policyConfig === undefined ? [] : ["--policy-pack-config", policyConfig]);
    const offline = planVerdicts(p.out);
    const a = cg.verdicts.map(key).sort();
    const b = offline.map(key).sort();
    const mandatory = offline.some((v) => v.level === "mandatory");
    report.check(
        `crossguard: ${label}: pulumi preview --policy-pack gives the verdicts npm run plan gives (${b.length}; ${cg.cannotRun.length} not runnable during preview)`,
        JSON.stringify(a) === JSON.stringify(b) && (pv.status !== 0) === mandatory && p.status === (mandatory ? 1 : 0),
        `CrossGuard (exit ${pv.status}):\n${a.join("\n")}\nnpm run plan (exit ${p.status}):\n${b.join("\n")}\n${pv.stderr.slice(-3000)}`,
    );
}

/** Whether the language host can run a nodejs policy pack (RunPlugin), or why not. */
function crossGuardSupported(cli: PulumiCli, dir: string, stack: string): string | undefined {
    const pv = cli.run(["preview", "--stack", stack, "--policy-pack", path.join(REPO, "policies")], { cwd: dir });
    const out = pv.stdout + pv.stderr;
    if (/could not read plugin .*not supported/.test(out) || /failed to start/.test(out)) {
        const host = toolStatus()["pulumi-language-nodejs"]?.module ?? "(unknown)";
        return `the nodejs language host here (${host}) cannot run policy packs: CLI v3.276 runs them through the host's RunPlugin, which sdk/v3 v3.68.0 answers "not supported" (sdk/nodejs/cmd/pulumi-language-nodejs/main.go at v3.68.0), and the proxy refuses github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 at every version (403). CLI output: ${out.trim().split("\n").pop()}`;
    }
    return undefined;
}

async function crossGuard(cli: PulumiCli, cp: ControlPlane): Promise<void> {
    const stacks: Array<{ stack: string; scenario: string; config?: Record<string, unknown> }> = [
        { stack: "cg-valid", scenario: "valid" },
        { stack: "cg-violations", scenario: "violations" },
        { stack: "cg-configured", scenario: "violations", config: { "no-foreign-data-endpoints": { enforcementLevel: "advisory" }, "function-limits-set": "disabled", "hostpath-under-sovereign-root": { sovereignRoots: ["/etc"] } } },
    ];
    for (const s of stacks) {
        cli.run(["stack", "init", s.stack], { cwd: PROJECT });
        cli.run(["config", "set", "--secret", "kubeconfig", "--stack", s.stack], { cwd: PROJECT, input: cp.kubeconfig });
        cli.run(["config", "set", "scenario", s.scenario, "--stack", s.stack], { cwd: PROJECT });
    }
    const why = crossGuardSupported(cli, PROJECT, "cg-valid");
    if (why !== undefined) {
        report.block("crossguard: pulumi preview --policy-pack against npm run plan (three stacks, one with its own policy settings)", why);
        return;
    }
    // A config with a misspelt policy and a setting the policy does not read: both paths refuse it, in the same words.
    const invalid = path.join(work, "invalid-policy-config.json");
    fs.writeFileSync(invalid, JSON.stringify({ "function-limit-set": "disabled", "host-in-allowed-country": { allowedCountry: ["SE"] } }));
    await report.time("crossguard: an invalid policy config", () => {
        const pv = cli.run(["preview", "--stack", "cg-valid", "--policy-pack", path.join(REPO, "policies"), "--policy-pack-config", invalid], { cwd: PROJECT });
        const p = plan(PROJECT, "cg-valid", ["--policy-pack-config", invalid]);
        const words = ['"function-limit-set" is not a policy of this pack: did you mean "function-limits-set"?', '"host-in-allowed-country".allowedCountry: "allowedCountry" is not a setting of host-in-allowed-country (did you mean "allowedCountries"?)'];
        const out = pv.stdout + pv.stderr;
        report.check(
            "crossguard: a misspelt policy name and a misspelt setting: pulumi preview --policy-pack stops (the pack's Configure guard), npm run plan exits 2, both in the same words",
            pv.status !== 0 && words.every((w) => out.includes(w)) && p.status === 2 && words.every((w) => p.stderr.includes(w)),
            `CLI (${pv.status}): ${diagnostics(pv)}\nplan (${p.status}): ${p.stderr}`,
        );
    });
    for (const s of stacks) {
        let cfg: string | undefined;
        if (s.config !== undefined) {
            cfg = path.join(work, `${s.stack}-policy-config.json`);
            fs.writeFileSync(cfg, JSON.stringify(s.config));
        }
        await report.time(`crossguard: ${s.stack}`, () => compareVerdicts(cli, PROJECT, s.stack, `${s.stack} (${s.scenario}${cfg ? ", with policy settings" : ""})`, cfg));
    }
}


// --- 4. The host layer against the Debian VM ----------------------------------------------------

const HOST_PROJECT = path.join(REPO, "tests", "engine", "host");
const VM = path.join(REPO, "tests", "vm");
/** The commit a user has deployed today (tests/helpers/upgrade.ts UPGRADE_BASELINE). */
const BASELINE = "28bb5c8";

interface Vm {
    readonly env: Record<string, string>;
    ssh(command: string, input?: string | Buffer): { status: number | null; stdout: string; stderr: string };
    stop(): void;
}

function bootVm(dir: string): Vm {
    const image = spawnSync(path.join(VM, "image.sh"), [], { encoding: "utf8" });
    if (image.status !== 0) {
        throw new Error(`image.sh failed:\n${image.stderr}`);
    }
    const imageDir = image.stdout.trim().split("\n").pop() as string;
    const boot = spawnSync(path.join(VM, "boot.sh"), ["start", imageDir, dir], { encoding: "utf8" });
    if (boot.status !== 0) {
        spawnSync(path.join(VM, "boot.sh"), ["stop", dir]);
        throw new Error(`boot.sh failed:\n${boot.stderr}`);
    }
    const env = Object.fromEntries(fs.readFileSync(path.join(dir, "vm.env"), "utf8").trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
    env.HOST_KEY = fs.readFileSync(path.join(imageDir, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    return {
        env,
        ssh(command: string, input?: string | Buffer) {
            const r = spawnSync("ssh", ["-i", env.KEY, "-p", env.SSH_PORT, "-o", `UserKnownHostsFile=${env.KNOWN_HOSTS}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "root@127.0.0.1", command], { input, timeout: 300_000 });
            return { status: r.status, stdout: r.stdout?.toString("utf8") ?? "", stderr: r.stderr?.toString("utf8") ?? "" };
        },
        stop() {
            spawnSync(path.join(VM, "boot.sh"), ["stop", dir]);
        },
    };
}

/** The stand-in k3s binary of a version (tests/vm/k3s-standin: not K3s; see its README line). */
function standIn(version: string): string {
    const out = path.join(work, `k3s-${version}`);
    const r = spawnSync("go", ["build", "-trimpath", "-ldflags", `-s -w -X main.version=${version}`, "-o", out, "."], { cwd: path.join(VM, "k3s-standin"), encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" } });
    if (r.status !== 0) {
        throw new Error(`building the k3s stand-in failed:\n${r.stderr}`);
    }
    return out;
}

function stage(vm: Vm, binary: string): void {
    vm.ssh("mkdir -p /var/lib/rancher/k3s/agent/images && touch /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst");
    vm.ssh("cat > /tmp/k3s.new && install -m 755 /tmp/k3s.new /usr/local/bin/k3s", fs.readFileSync(binary));
    vm.ssh("cat > /usr/local/bin/k3s-install.sh", fs.readFileSync(path.join(VM, "k3s-standin", "k3s-install.sh"), "utf8"));
}

/** The operations a `pulumi preview --json` plans, by resource name. */
function previewOps(stdout: string): Record<string, string> {
    const out: Record<string, string> = {};
    try {
        const doc = JSON.parse(stdout) as { steps?: Array<{ op: string; urn: string }> };
        for (const st of doc.steps ?? []) {
            const name = st.urn.split("::").pop() as string;
            out[name] = out[name] === undefined ? st.op : `${out[name]},${st.op}`;
        }
    } catch {
        out["(preview output)"] = stdout.slice(0, 2000);
    }
    return out;
}

/** The resource changes of the stack's last update (`pulumi stack history`): what the engine really did. */
function lastChanges(cli: PulumiCli, cwd: string): Record<string, number> {
    try {
        const history = JSON.parse(cli.run(["stack", "history", "--json"], { cwd }).stdout) as Array<{ resourceChanges?: Record<string, number> }>;
        return history[0]?.resourceChanges ?? {};
    } catch {
        return { "(history unreadable)": 1 };
    }
}

const replacedOrDeleted = (changes: Record<string, number>): boolean => Object.entries(changes).some(([op, n]) => /replace|delete|discard|\(/.test(op) && n > 0);

const destructive = (ops: Record<string, string>): string[] => Object.entries(ops).filter(([, op]) => /replace|delete|discard/.test(op)).map(([n, op]) => `${n}: ${op}`);

async function hostLayer(cli: PulumiCli): Promise<void> {
    const command = tool("pulumi-resource-command");
    if (!command.ok) {
        report.block("host: pulumi up of the host components against the Debian VM (apply, no-change, kernel in place, K3s bump as update, migration from the baseline, destroy)", command.why);
        return;
    }
    const vmTools = ["qemu-system-x86_64", "qemu-img", "debootstrap", "ssh", "go"].filter((t) => onPath(t, pathValue()) === undefined);
    if (vmTools.length > 0 || process.getuid?.() !== 0) {
        report.check("host: the VM tools are here (root, qemu, debootstrap, ssh, go)", false, `missing: ${vmTools.join(", ")}`);
        return;
    }
    const vm = await report.time("host: VM image and boot", () => bootVm(fs.mkdtempSync(path.join(work, "vm-"))));
    try {
        const stack = "host";
        const cfg = (k: string, v: string, secret = false): void => {
            cli.run(["config", "set", ...(secret ? ["--secret"] : []), k, ...(secret ? [] : [v])], { cwd: HOST_PROJECT, ...(secret ? { input: v } : {}) });
        };
        const log = (): string[] => vm.ssh("cat /var/log/sovereign-faas/steps.log 2>/dev/null || true").stdout.trim().split("\n").filter((l) => l !== "");
        const up = (label: string, extra: string[] = []) => report.time(`host: ${label}`, () => cli.run(["up", "--yes", "--skip-preview", ...extra], { cwd: HOST_PROJECT }));
        const preview = (label: string) => report.time(`host: ${label}`, () => cli.run(["preview", "--json"], { cwd: HOST_PROJECT }));

        // The committed baseline deploys first, the way a stack of program 0.1 was deployed.
        const baseline = fs.mkdtempSync(path.join(work, "baseline-"));
        const archive = spawnSync("git", ["-C", REPO, "archive", "--format=tar", BASELINE], { maxBuffer: 256 * 1024 * 1024 });
        spawnSync("tar", ["-x", "-C", baseline], { input: archive.stdout });
        fs.symlinkSync(path.join(REPO, "node_modules"), path.join(baseline, "node_modules"));
        stage(vm, standIn("v1.33.5+k3s1"));
        cli.run(["stack", "init", stack], { cwd: HOST_PROJECT });
        cfg("host", "127.0.0.1");
        cfg("port", vm.env.SSH_PORT);
        cfg("hostKey", vm.env.HOST_KEY);
        cfg("sshPrivateKey", fs.readFileSync(vm.env.KEY, "utf8"), true);
        cfg("library", path.join(baseline, "components"));
        cfg("layout", "top-level");
        const first = await up(`pulumi up with the committed baseline ${BASELINE} (program 0.1's layout)`);
        report.check(`host: the baseline ${BASELINE} deploys the host layer (K3s: the stand-in, air-gapped)`, first.status === 0, diagnostics(first));

        // This checkout, under one parent as the platform puts it: nothing replaced, nothing deleted.
        cfg("library", "");
        cfg("layout", "platform");
        const migration = await preview("preview of the upgrade to this checkout");
        const mOps = previewOps(migration.stdout);
        report.check("host: upgrading that state to this checkout, under the platform's parent, plans no replacement and no delete (aliases, ignoreChanges triggers)", migration.status === 0 && destructive(mOps).length === 0 && mOps["k3s-install"] === "update", JSON.stringify(mOps));
        const migrated = await up("pulumi up of the upgrade");
        const mChanges = lastChanges(cli, HOST_PROJECT);
        report.check(
            "host: the upgrade applies, the engine replaced and deleted nothing (stack history), and no delete ran on the host (K3s still installed)",
            migrated.status === 0 && !replacedOrDeleted(mChanges) && vm.ssh("systemctl is-active k3s && test -d /var/lib/rancher").status === 0 && !log().some((l) => / k3s-uninstall /.test(l)),
            `${JSON.stringify(mChanges)}\n${diagnostics(migrated)}`,
        );

        const before = log();
        const again = await up("pulumi up --expect-no-changes", ["--expect-no-changes"]);
        report.check("host: a second pulumi up changes nothing (--expect-no-changes), and the host's step log shows that no step ran", again.status === 0 && log().length === before.length, `${diagnostics(again)}\nlog: ${log().slice(before.length).join("\n")}`);

        cfg("somaxconn", "16384");
        const kOps = previewOps((await preview("preview of a kernel change")).stdout);
        report.check("host: a kernel value change is planned as an update of kernel-apply, nothing replaced", kOps["kernel-apply"] === "update" && destructive(kOps).length === 0, JSON.stringify(kOps));
        const n = log().length;
        const kUp = await up("pulumi up of the kernel change");
        const ran = log().slice(n);
        report.check(
            "host: it is applied in place: the kernel step ran, no delete ran, the value is live",
            kUp.status === 0 && !replacedOrDeleted(lastChanges(cli, HOST_PROJECT)) && ran.some((l) => / kernel started/.test(l)) && !ran.some((l) => /uninstall/.test(l)) && vm.ssh("sysctl -n net.core.somaxconn").stdout.trim() === "16384",
            `${diagnostics(kUp)}\n${ran.join("\n")}`,
        );

        cfg("k3sVersion", "v1.33.6+k3s1");
        const vOps = previewOps((await preview("preview of a K3s version bump")).stdout);
        report.check("host: a K3s version bump is planned as an update of k3s-install, never a replacement", vOps["k3s-install"] === "update" && destructive(vOps).length === 0, JSON.stringify(vOps));
        stage(vm, standIn("v1.33.6+k3s1"));
        const vUp = await up("pulumi up of the K3s bump (stand-in binary staged, air-gapped)");
        const pid = vm.ssh("systemctl show -p MainPID --value k3s").stdout.trim();
        const running = vm.ssh(`/proc/${pid}/exe --version`).stdout.split(" ")[2];
        report.check("host: the air-gapped upgrade restarts K3s onto the staged version, in place (stack history: nothing replaced)", vUp.status === 0 && !replacedOrDeleted(lastChanges(cli, HOST_PROJECT)) && running === "v1.33.6+k3s1" && vm.ssh("test -d /var/lib/rancher").status === 0, `${diagnostics(vUp)}\nrunning: ${running}`);

        const keep = log().length;
        const down = await report.time("host: pulumi destroy", () => cli.run(["destroy", "--yes", "--skip-preview"], { cwd: HOST_PROJECT }));
        const kept = vm.ssh("systemctl is-active k3s && test -d /var/lib/rancher && test -d /data/sovereign/profiles && nft list table inet sovereign_faas >/dev/null && test -f /etc/sysctl.d/99-sovereign-faas.conf");
        report.check("host: pulumi destroy leaves the host as the README says: K3s and its data, the firewall, the sysctls and the sovereign data stay; no step ran", down.status === 0 && kept.status === 0 && log().length === keep, `${diagnostics(down)}\n${kept.stderr}`);

        // Asked for explicitly: uninstallOnDestroy deletes K3s and its datastore, and only that.
        cfg("uninstallOnDestroy", "true");
        const re = await up("pulumi up with uninstallOnDestroy");
        const gone = await report.time("host: pulumi destroy with uninstallOnDestroy", () => cli.run(["destroy", "--yes", "--skip-preview"], { cwd: HOST_PROJECT }));
        report.check(
            "host: with uninstallOnDestroy, destroy runs k3s-uninstall.sh: K3s and /var/lib/rancher are gone, the sovereign data stays",
            re.status === 0 && gone.status === 0 && log().some((l) => / k3s-uninstall started/.test(l)) && vm.ssh("test ! -e /var/lib/rancher && test -d /data/sovereign/profiles && ! systemctl is-active k3s").status === 0,
            `${diagnostics(re)}\n${diagnostics(gone)}`,
        );
        cli.run(["stack", "rm", stack, "--yes"], { cwd: HOST_PROJECT });
    } finally {
        vm.stop();
    }
}

// --- main ---------------------------------------------------------------------------------------

/** SOVEREIGN_FAAS_ENGINE_PARTS=cli-config,quick-start,cluster,crossguard,host runs only those (development). */
const PARTS = new Set((process.env.SOVEREIGN_FAAS_ENGINE_PARTS ?? "cli-config,quick-start,cluster,crossguard,host").split(",").map((p) => p.trim()));

async function main(): Promise<void> {
    report.say("== engine tools (tests/engine/tools/build.sh)");
    const build = await report.time("tools: build.sh", () => spawnSync("bash", [path.join(REPO, "tests", "engine", "tools", "build.sh")], { stdio: "inherit", env: process.env }));
    if (!report.check("tools: the CLI, the language host, the Kubernetes provider and the control plane are built", build.status === 0)) {
        return;
    }
    for (const name of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes", "etcd", "kube-apiserver", "kube-controller-manager"]) {
        const t = tool(name);
        if (!report.check(`tools: ${name} is on the test PATH`, t.ok, t.ok ? "" : t.why)) {
            return;
        }
    }
    const cli = new PulumiCli(work, PATH_PREFIX);
    report.say(`     ${cli.run(["version"], { cwd: work }).stdout.trim()} (pulumi version)`);

    if (PARTS.has("cli-config")) {
        report.say("\n== 1. cli-config");
        await cliConfig(cli);
    }
    if (PARTS.has("quick-start")) {
        report.say("\n== 1b. quick-start");
        await quickStart(cli);
    }
    if (PARTS.has("cluster") || PARTS.has("crossguard")) {
        const cp = await report.time("cluster: control plane start", () => startControlPlane(path.join(work, "kube"), cli.env));
        try {
            if (PARTS.has("cluster")) {
                report.say("\n== 2. cluster");
                await cluster(cli, cp);
            }
            if (PARTS.has("crossguard")) {
                report.say("\n== 3. crossguard");
                await crossGuard(cli, cp);
            }
        } finally {
            await cp.stop();
        }
    }
    if (PARTS.has("host")) {
        report.say("\n== 4. host");
        await hostLayer(cli);
    }
}

main()
    .catch((err: unknown) => {
        report.check("engine tier", false, (err as Error).stack ?? String(err));
    })
    .finally(() => {
        for (const dir of [PROJECT, HOST_PROJECT]) {
            for (const f of fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml")) {
                fs.rmSync(path.join(dir, f), { force: true });
            }
        }
        if (process.env.SOVEREIGN_FAAS_ENGINE_KEEP !== "1") {
            fs.rmSync(work, { recursive: true, force: true });
        }
        report.say("\ntimings:");
        for (const [k, v] of report.timings) {
            report.say(`  ${k}: ${v}`);
        }
        if (report.blocked.length > 0) {
            report.say(`\nblocked (${report.blocked.length}): parts that need a tool the Go module proxy refuses here; they did not run:`);
            for (const b of report.blocked) {
                report.say(`  - ${b}`);
            }
        }
        report.say(`\n${report.passed} passed, ${report.failed} failed, ${report.blocked.length} blocked`);
        process.exit(report.failed > 0 ? 1 : report.blocked.length > 0 ? 4 : 0);
    });

