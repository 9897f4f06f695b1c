/**
 * The offline policy check: the pack's own rule functions (policies/rules, one code path) over
 * the recorded resources, plus the sovereignty evidence report generated from the same records.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the report reads recorded JSON of many resource shapes; each read is guarded */
import * as fs from "fs";
import * as path from "path";

import { DEFAULT_CONFIG, EnforcementLevel, evaluateRules, PackConfig, parsePackConfig, PolicyResult, ResourceView, RULES } from "../../policies/rules";
import { ResourceRecord } from "./recorder";

export type { PolicyResult };

export interface PolicySettings {
    readonly config: PackConfig;
    readonly levels: Readonly<Record<string, EnforcementLevel>>;
}

/** Reads a `--policy-pack-config` JSON file (the CLI's format). */
export function loadPolicyConfig(file: string): PolicySettings {
    return parsePackConfig(JSON.parse(fs.readFileSync(file, "utf8")));
}

function views(records: readonly ResourceRecord[]): ResourceView[] {
    return records.filter((r) => r.custom !== false).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
}

/** Every violation, as policy.json lists them. */
export function evaluatePolicies(records: readonly ResourceRecord[], settings: PolicySettings = { config: DEFAULT_CONFIG, levels: {} }): PolicyResult[] {
    return evaluateRules(RULES, views(records), settings.config, settings.levels);
}

/** 1 when any mandatory rule failed. */
export function policyExitCode(results: readonly PolicyResult[]): number {
    return results.some((r) => r.enforcementLevel === "mandatory") ? 1 : 0;
}

// --- The evidence report ----------------------------------------------------------------------

interface Evidence {
    hosts: Array<{ host: string; country: string; region: string; site?: string; provider?: string }>;
    dataResources: Array<{ kind: string; name: string; host: string; country: string; region: string; path?: string; detail: string }>;
    firewall: string[];
    kernel: Record<string, string>;
    versions: Array<{ component: string; version: string; source: string }>;
    tlsMode: string;
    policies: { rules: string[]; violations: PolicyResult[] };
}

function scriptOf(records: readonly ResourceRecord[], step: string): string | undefined {
    const r = records.find((x) => x.type === "command:remote:Command" && typeof x.inputs.create === "string" && (x.inputs.create as string).trimEnd().endsWith(`sovereign-faas-${step}`));
    return r?.inputs.create as string | undefined;
}

function stampOf(script: string | undefined): Record<string, string> {
    const m = script ? /# sovereign-faas-location: (\{.*\})/.exec(script) : null;
    try {
        return m ? (JSON.parse(m[1]) as Record<string, string>) : {};
    } catch {
        return {};
    }
}

/** Builds the evidence from the records: where data lives, and what stops it leaving. */
export function buildEvidence(records: readonly ResourceRecord[], results: readonly PolicyResult[]): Evidence {
    const k3s = scriptOf(records, "k3s") ?? "";
    const stamp = stampOf(k3s || scriptOf(records, "connect"));
    const host = /\ntls-san:\n\s+- "?([^"\n]+)"?/.exec(k3s)?.[1] ?? "(unknown)";
    const where = { host, country: stamp.country ?? "(unknown)", region: stamp.region ?? "(unknown)" };
    const data: Evidence["dataResources"] = [];

    const volumesScript = scriptOf(records, "volumes");
    if (volumesScript) {
        for (const m of volumesScript.matchAll(/^ {2}(\S+) (\S+) (\d+) ([01])(?: \\)?$/gm)) {
            data.push({ kind: "sovereign volume (host directory)", name: m[1], ...where, path: m[2], detail: `owner uid ${m[3]}, mode 0700${m[4] === "1" ? ", encryption required" : ""}` });
        }
    }
    for (const r of records) {
        const spec = (r.inputs.spec as Record<string, any> | undefined)?.template?.spec;
        if (r.type === "kubernetes:apps/v1:Deployment" && Array.isArray(spec?.volumes)) {
            for (const v of spec.volumes.filter((x: any) => x.hostPath)) {
                const mount = (spec.containers ?? []).flatMap((c: any) => c.volumeMounts ?? []).find((m: any) => m.name === v.name);
                data.push({
                    kind: "function with a sovereign volume",
                    name: r.name,
                    ...where,
                    path: v.hostPath.path,
                    detail: `mounted at ${mount?.mountPath} ${mount?.readOnly ? "read-only" : "read-write"}; pinned to ${JSON.stringify(spec.nodeSelector ?? {})}`,
                });
            }
        }
        if (r.type === "kubernetes:core/v1:Secret") {
            const meta = r.inputs.metadata as Record<string, unknown> | undefined;
            data.push({ kind: "Kubernetes Secret (encrypted at rest by K3s secrets-encryption)", name: `${String(meta?.namespace)}/${String(meta?.name)}`, ...where, detail: `type ${String(r.inputs.type ?? "Opaque")}; values not shown` });
        }
        if (r.type === "kubernetes:helm.sh/v3:Release") {
            const chart = String(r.inputs.chart);
            const values = (r.inputs.values ?? {}) as Record<string, any>;
            if (chart === "openfaas") {
                const ext = values.nats?.external?.enabled === true;
                data.push({ kind: "async queue (NATS in the openfaas namespace)", name: r.name, ...where, detail: ext ? `EXTERNAL NATS at ${values.nats.external.host}` : values.openfaasPro ? "JetStream, in-cluster" : "NATS Streaming (in memory), in-cluster" });
            } else if (chart === "queue-worker") {
                data.push({ kind: "named queue (JetStream stream)", name: String(values.queueName), ...where, detail: `stream ${values.nats?.stream?.name} on ${values.nats?.host}` });
            } else if (chart === "nats-connector") {
                data.push({ kind: "topic trigger (NATS subjects)", name: r.name, ...where, detail: `topics ${values.topics} from ${values.broker_host}` });
            }
        }
    }

    const fw = scriptOf(records, "firewall") ?? "";
    const chain = /chain input \{([\s\S]*?)\n\s*\}/.exec(fw)?.[1] ?? "";
    const sets = [...fw.matchAll(/set (\w+) \{[\s\S]*?(?:elements = \{ ([^}]*) \})?\s*\n\s*\}/g)].map((m) => `set ${m[1]}: ${m[2] ?? "(empty)"}`);
    const firewall = [...sets, ...chain.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))];

    const kernel: Record<string, string> = {};
    const profile = /\nset -- \\\n([\s\S]*?)\nwhile /.exec(scriptOf(records, "kernel") ?? "")?.[1] ?? "";
    for (const m of profile.matchAll(/^ {2}([a-z0-9_.-]+) (\S.*?)(?: \\)?$/gm)) {
        kernel[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }

    const versions: Evidence["versions"] = [];
    const k3sVersion = /\nK3S_VERSION=(\S+)/.exec(k3s)?.[1];
    if (k3sVersion) {
        versions.push({ component: "K3s", version: k3sVersion, source: "get.k3s.io installer, pinned" });
    }
    for (const r of records.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
        const repo = (r.inputs.repositoryOpts as Record<string, unknown> | undefined)?.repo;
        versions.push({ component: `${String(r.inputs.chart)} (${r.name})`, version: String(r.inputs.version), source: String(repo ?? r.inputs.chart) });
    }

    const tlsMode = records.some((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer")
        ? "acme (cert-manager, Let's Encrypt HTTP-01)"
        : records.some((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")
          ? "self-signed (@pulumi/tls)"
          : records.some((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/tls")
            ? "provided (certificate from config)"
            : "none (no public endpoint)";

    return {
        hosts: [{ ...where, ...(stamp.site ? { site: stamp.site } : {}), ...(stamp.provider ? { provider: stamp.provider } : {}) }],
        dataResources: data,
        firewall,
        kernel,
        versions,
        tlsMode,
        policies: { rules: RULES.map((r) => r.name), violations: [...results] },
    };
}

function table(head: string[], rows: string[][]): string {
    const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** Renders the report as Markdown and JSON. */
export function renderSovereigntyReport(records: readonly ResourceRecord[], results: readonly PolicyResult[], stack: string, config: PackConfig = DEFAULT_CONFIG): { markdown: string; json: Evidence } {
    const e = buildEvidence(records, results);
    const mandatory = results.filter((r) => r.enforcementLevel === "mandatory").length;
    const verdict = results.length === 0 ? "All policies pass." : `${mandatory} mandatory and ${results.length - mandatory} advisory violation(s).`;
    const md = `# Sovereignty report: stack \`${stack}\`

Generated by \`npm run plan\` from the planned resources. It answers: where does personal data
live, and what stops it leaving? Allowed countries: ${config.allowedCountries.join(", ")}.

## Where the data lives

${table(["host", "country", "region", "site", "provider"], e.hosts.map((h) => [h.host, h.country, h.region, h.site ?? "", h.provider ?? ""]))}

${table(["data", "name", "host", "country", "region", "path", "detail"], e.dataResources.map((d) => [d.kind, d.name, d.host, d.country, d.region, d.path ?? "", d.detail]))}

## What stops it leaving

**Policy verdicts.** ${verdict} Rules checked: ${e.policies.rules.join(", ")}.

${results.length === 0 ? "" : table(["policy", "level", "resource", "message"], results.map((r) => [r.policy, r.enforcementLevel, `${r.type} ${r.name}`, r.message]))}

**Host firewall** (nftables table \`inet sovereign_faas\`, default drop):

${e.firewall.map((l) => `- \`${l}\``).join("\n")}

**TLS:** ${e.tlsMode}.

## Kernel and CIS settings

${table(["sysctl", "value"], Object.entries(e.kernel).map(([k, v]) => [k, v]))}

## Pinned versions

${table(["component", "version", "source"], e.versions.map((v) => [v.component, v.version, v.source]))}
`;
    return { markdown: md.replace(/\n{3,}/g, "\n\n"), json: e };
}

/** Writes policy.json and the sovereignty report; returns the exit code (1 on mandatory violations). */
export function writePolicyOutputs(outDir: string, records: readonly ResourceRecord[], stack: string, settings?: PolicySettings): { exitCode: number; results: PolicyResult[] } {
    const results = evaluatePolicies(records, settings);
    const report = renderSovereigntyReport(records, results, stack, settings?.config);
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "policy.json"), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.md"), report.markdown);
    fs.writeFileSync(path.join(outDir, "sovereignty-report.json"), `${JSON.stringify(report.json, null, 2)}\n`);
    return { exitCode: policyExitCode(results), results };
}
