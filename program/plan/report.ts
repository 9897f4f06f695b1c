/**
 * The sovereignty report: where the stack's data lives and what stops it leaving, built from the
 * planned resources. It claims only what the stack manages: no cluster section without a K3s
 * step, no firewall or kernel section without those steps, and no "encrypted at rest" for
 * Secrets in a cluster this stack did not configure.
 *
 * resources.json and policy.json are deterministic; this report alone carries the time it was
 * made, what made it (the git commit of the project, the library's version) and a hash of the
 * stack's config files, so a reader can tell which state of the stack it describes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the report reads recorded JSON of many resource shapes; each read is guarded */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

import {
    acceptedException,
    allowsEverything,
    backupReport,
    DEFAULT_CONFIG,
    datastoreHosts,
    dig,
    EGRESS_EXCEPTIONS,
    HELM_RELEASE,
    isDefaultDenyEgress,
    K3S_DEFAULT_S3_ENDPOINT,
    k3sSettingsOf,
    LOCATION_STAMP,
    NETWORK_POLICY,
    PackConfig,
    podTemplate,
    PolicyResult,
    REGISTRY_DATASET,
    registryReport,
    remoteStep,
    ResourceView,
    Rule,
} from "../../policies/rules";
import { ResourceRecord } from "./recorder";

/** What made the report and from what. */
export interface ReportMeta {
    readonly stack: string;
    /** ISO 8601, UTC. */
    readonly generatedAt: string;
    /** The project's git commit (with "+dirty" when the tree has changes), when it is a git checkout. */
    readonly projectCommit?: string;
    /** The sovereign-faas library that planned it. */
    readonly library: string;
    /** SHA-256 of Pulumi.yaml and Pulumi.<stack>.yaml as read (ciphertexts included, no plain secret). */
    readonly configHash: string;
    readonly production: { readonly production: boolean; readonly why: string };
}

export interface ReportContext {
    /** The project directory. */
    readonly dir: string;
    readonly stack: string;
    /** @default now */
    readonly now?: Date;
}

/**
 * A production stack, for the report's warnings: one named prod or production (alone or as a
 * dash-, dot- or underscore-separated part, like prod-oslo), or one that runs OpenFaaS Pro, whose
 * licence is for commercial use.
 */
export function productionStack(stack: string, records: readonly Pick<ResourceRecord, "type" | "inputs">[]): { production: boolean; why: string } {
    if (/(^|[-_.])(prod|production)([-_.]|$)/i.test(stack)) {
        return { production: true, why: `the stack is named ${stack}` };
    }
    if (records.some((r) => r.type === HELM_RELEASE && dig(r.inputs, "values", "openfaasPro") === true)) {
        return { production: true, why: "it runs OpenFaaS Pro (a commercial licence)" };
    }
    return { production: false, why: "its name does not say prod or production and it runs OpenFaaS CE" };
}

function libraryVersion(): string {
    let dir = __dirname;
    for (let i = 0; i < 6; i++) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
            if (pkg.name === "sovereign-faas") {
                return `sovereign-faas ${pkg.version ?? "(unknown version)"}`;
            }
        }
        dir = path.dirname(dir);
    }
    return "sovereign-faas (unknown version)";
}

function gitCommit(dir: string): string | undefined {
    try {
        const commit = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
        return `${commit}${dirty ? "+dirty" : ""}`;
    } catch {
        return undefined;
    }
}

export function reportMeta(ctx: ReportContext, records: readonly ResourceRecord[]): ReportMeta {
    const hash = createHash("sha256");
    for (const file of ["Pulumi.yaml", `Pulumi.${ctx.stack}.yaml`]) {
        const p = path.join(ctx.dir, file);
        hash.update(`${file}\n`);
        hash.update(fs.existsSync(p) ? fs.readFileSync(p) : "");
    }
    const commit = gitCommit(ctx.dir);
    return {
        stack: ctx.stack,
        generatedAt: (ctx.now ?? new Date()).toISOString(),
        ...(commit !== undefined ? { projectCommit: commit } : {}),
        library: libraryVersion(),
        configHash: hash.digest("hex"),
        production: productionStack(ctx.stack, records),
    };
}

// --- The evidence -----------------------------------------------------------------------------

interface Where {
    host: string;
    country: string;
    region: string;
}

export interface Evidence {
    meta: ReportMeta;
    hosts: Array<Where & { site?: string; provider?: string }>;
    /** The K3s this stack installs; undefined when it manages no K3s. */
    cluster?: { version?: string; datastore: string; snapshots: string; secretsEncryption: boolean; dataDir: string };
    dataResources: Array<Where & { kind: string; name: string; path?: string; detail: string }>;
    /** The host firewall's rules; undefined when the stack manages no firewall. */
    firewall?: string[];
    /** The kernel settings; undefined when the stack manages no kernel tuning. */
    kernel?: Record<string, string>;
    versions: Array<{ component: string; version: string; source: string }>;
    /** Every container image the plan names, with its registry (supply chain, not data location). */
    images: Array<{ image: string; registry: string; usedBy: string }>;
    tls: { mode: string; warning?: string };
    /** What each namespace may reach, the registry evidence for every address, the dataset. */
    network: NetworkEvidence;
    /** Every backup target, with its location evidence; schedule and retention as installed. */
    backups: Array<{ kind: string; target: string; usedBy: string; evidence: string; schedule?: string; retention?: string }>;
    policies: { rules: string[]; passed: string[]; violations: PolicyResult[] };
    /** Things a reader must not miss. */
    warnings: string[];
}

export interface NetworkEvidence {
    dataset: { package: string; version: string; date: string; licence: string };
    namespaces: Array<{ namespace: string; defaultDenyEgress: boolean; policies: Array<{ name: string; pods: string; egress: string[] }> }>;
    exceptions: Array<{ policy: string; exception: string; why: string }>;
    addresses: Array<{ what: string; address: string; usedBy: string; evidence: string }>;
}

function selectorText(s: unknown): string {
    const labels = dig(s, "matchLabels");
    const exprs = dig(s, "matchExpressions");
    const parts = [
        ...Object.entries(typeof labels === "object" && labels !== null ? (labels as Record<string, unknown>) : {}).map(([k, v]) => `${k}=${String(v)}`),
        ...(Array.isArray(exprs) ? exprs.map((e) => `${String(dig(e, "key"))} ${String(dig(e, "operator"))}${Array.isArray(dig(e, "values")) ? ` (${(dig(e, "values") as unknown[]).join(", ")})` : ""}`) : []),
    ];
    return parts.length === 0 ? "all pods" : parts.join(", ");
}

function peerText(peer: unknown): string {
    const cidr = dig(peer, "ipBlock", "cidr");
    if (typeof cidr === "string") {
        const except = dig(peer, "ipBlock", "except");
        return Array.isArray(except) && except.length > 0 ? `${cidr} except ${except.join(", ")}` : cidr;
    }
    const ns = dig(peer, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name");
    const pods = dig(peer, "podSelector") !== undefined ? selectorText(dig(peer, "podSelector")) : "all pods";
    return `${pods} in ${typeof ns === "string" ? `namespace ${ns}` : dig(peer, "namespaceSelector") !== undefined ? "any namespace" : "this namespace"}`;
}

function networkOf(views: readonly ResourceView[]): NetworkEvidence {
    const policies = views.filter((v) => v.type === NETWORK_POLICY);
    const byNs = new Map<string, NetworkEvidence["namespaces"][number]>();
    for (const p of policies) {
        const ns = String(dig(p.props, "metadata", "namespace") ?? "default");
        const entry = byNs.get(ns) ?? { namespace: ns, defaultDenyEgress: false, policies: [] };
        entry.defaultDenyEgress ||= isDefaultDenyEgress(p);
        const egress = dig(p.props, "spec", "egress");
        const lines = (Array.isArray(egress) ? egress : []).map((rule) => {
            const to = dig(rule, "to");
            const ports = dig(rule, "ports");
            const where = Array.isArray(to) && to.length > 0 ? to.map(peerText).join("; ") : "EVERY destination";
            return `${where}${Array.isArray(ports) && ports.length > 0 ? ` on ${ports.map((x) => `${String(dig(x, "port"))}/${String(dig(x, "protocol") ?? "TCP")}`).join(", ")}` : " on every port"}`;
        });
        const types = dig(p.props, "spec", "policyTypes");
        entry.policies.push({
            name: String(dig(p.props, "metadata", "name")),
            pods: selectorText(dig(p.props, "spec", "podSelector")),
            egress: lines.length > 0 ? lines : Array.isArray(types) && types.includes("Egress") ? ["nothing (deny)"] : ["(ingress only)"],
        });
        byNs.set(ns, entry);
    }
    const exceptions = policies
        .map((p) => ({ p, e: acceptedException(p) }))
        .filter((x): x is { p: ResourceView; e: string } => x.e !== undefined && allowsEverything(x.p) !== undefined)
        .map(({ p, e }) => ({ policy: `${String(dig(p.props, "metadata", "namespace"))}/${String(dig(p.props, "metadata", "name"))}`, exception: e, why: EGRESS_EXCEPTIONS[e].why }));
    return {
        dataset: { ...REGISTRY_DATASET },
        namespaces: [...byNs.values()].sort((a, b) => a.namespace.localeCompare(b.namespace)),
        exceptions,
        addresses: registryReport(views),
    };
}

function scriptOf(records: readonly ResourceRecord[], step: string): ResourceRecord | undefined {
    return records.find((x) => x.type === "command:remote:Command" && remoteStep({ type: x.type, name: x.name, props: x.inputs }) === step);
}

function stampOf(record: ResourceRecord | undefined): Record<string, string> {
    const create = record?.inputs.create;
    const m = typeof create === "string" ? new RegExp(`${LOCATION_STAMP}(\\{.*\\})`).exec(create) : null;
    try {
        return m ? (JSON.parse(m[1]) as Record<string, string>) : {};
    } catch {
        return {};
    }
}

/** `ghcr.io/org/img:1` -> ghcr.io; `nginx:1` -> docker.io (the default registry). */
export function registryOf(image: string): string {
    const first = image.split("/")[0];
    return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

function view(r: ResourceRecord): ResourceView {
    return { type: r.type, name: r.name, props: r.inputs };
}

function clusterOf(k3s: ResourceRecord | undefined, where: Where): Evidence["cluster"] {
    if (k3s === undefined) {
        return undefined;
    }
    // The plain inputs show the secret drop-in too; a secret value is named, never shown.
    const settings = k3sSettingsOf({ type: k3s.type, name: k3s.name, props: k3s.plainInputs ?? k3s.inputs });
    const cfg = settings?.config ?? {};
    const shown = (key: string): string => (settings?.secretKeys.has(key) === true ? "(named in a secret value)" : String(cfg[key]).replace(/\/\/[^@/]*@/, "//[credentials]@"));
    const dataDir = typeof cfg["data-dir"] === "string" ? cfg["data-dir"] : "/var/lib/rancher/k3s";
    const endpoint = cfg["datastore-endpoint"];
    const etcd = cfg["cluster-init"] === true || cfg["cluster-init"] === "true" || typeof cfg.server === "string";
    const datastore =
        typeof endpoint === "string" && endpoint !== "" && !datastoreHosts(endpoint).local
            ? `external datastore at ${shown("datastore-endpoint")}`
            : typeof cfg.server === "string"
              ? `the datastore of the server it joins, ${shown("server")}`
              : etcd
                ? `embedded etcd in ${dataDir}/server/db/etcd on ${where.host} (${where.country})`
                : `SQLite (kine) in ${typeof endpoint === "string" && endpoint !== "" ? shown("datastore-endpoint") : `${dataDir}/server/db/state.db`} on ${where.host} (${where.country})`;
    const s3 = cfg["etcd-s3"] === true || cfg["etcd-s3"] === "true";
    const snapshots = !etcd
        ? "none: K3s takes no snapshots of SQLite (copies are the backups' job)"
        : s3
          ? `etcd snapshots in ${String(cfg["etcd-snapshot-dir"] ?? `${dataDir}/server/db/snapshots`)} and on S3 at ${cfg["etcd-s3-endpoint"] !== undefined ? shown("etcd-s3-endpoint") : `${K3S_DEFAULT_S3_ENDPOINT} (the K3s default)`}, bucket ${cfg["etcd-s3-bucket"] !== undefined ? shown("etcd-s3-bucket") : "(unset)"}`
          : `etcd snapshots in ${String(cfg["etcd-snapshot-dir"] ?? `${dataDir}/server/db/snapshots`)} on ${where.host}`;
    const version = /\nK3S_VERSION=(\S+)/.exec(String(k3s.inputs.create))?.[1];
    return { ...(version !== undefined ? { version } : {}), datastore, snapshots, secretsEncryption: cfg["secrets-encryption"] === true, dataDir };
}

function imagesOf(records: readonly ResourceRecord[]): Evidence["images"] {
    const out: Evidence["images"] = [];
    for (const r of records) {
        const pod = podTemplate(view(r));
        if (pod !== undefined) {
            for (const c of [...(Array.isArray(pod.spec.containers) ? pod.spec.containers : []), ...(Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [])]) {
                if (typeof c?.image === "string") {
                    out.push({ image: c.image, registry: registryOf(c.image), usedBy: r.name });
                }
            }
        }
        if (r.type === HELM_RELEASE) {
            const chart = String(r.inputs.chart);
            const walk = (v: unknown, at: string, depth: number): void => {
                if (v !== null && typeof v === "object" && !Array.isArray(v) && depth <= 64) {
                    for (const [k, child] of Object.entries(v)) {
                        if (k === "image" && typeof child === "string") {
                            out.push({ image: child, registry: registryOf(child), usedBy: `${r.name} (values.${at}${at ? "." : ""}image)` });
                        } else {
                            walk(child, at === "" ? k : `${at}.${k}`, depth + 1);
                        }
                    }
                }
            };
            walk(r.inputs.values, "", 0);
            out.push({ image: `the ${chart} chart's default images`, registry: "the chart's own (not resolved offline)", usedBy: r.name });
        }
    }
    return out.sort((a, b) => a.usedBy.localeCompare(b.usedBy) || a.image.localeCompare(b.image));
}

/** Builds the evidence from the records: where data lives, and what stops it leaving. */
export function buildEvidence(records: readonly ResourceRecord[], rules: readonly Rule[], results: readonly PolicyResult[], meta: ReportMeta, config: PackConfig = DEFAULT_CONFIG): Evidence {
    const k3s = scriptOf(records, "k3s");
    const stamp = stampOf(k3s ?? scriptOf(records, "connect"));
    const host = (k3s ? /\ntls-san:\n\s+- "?([^"\n]+)"?/.exec(String(k3s.inputs.create))?.[1] : undefined) ?? "(unknown)";
    const where: Where = { host, country: stamp.country ?? "(unknown)", region: stamp.region ?? "(unknown)" };
    const cluster = clusterOf(k3s, where);
    const warnings: string[] = [];
    const data: Evidence["dataResources"] = [];

    const volumes = scriptOf(records, "volumes");
    if (volumes !== undefined) {
        for (const m of String(volumes.inputs.create).matchAll(/^ {2}(\S+) (\S+) (\d+) ([01])(?: \\)?$/gm)) {
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
            const meta_ = r.inputs.metadata as Record<string, unknown> | undefined;
            const atRest =
                cluster === undefined
                    ? "encryption at rest: not managed by this stack (the cluster is not this stack's)"
                    : cluster.secretsEncryption
                      ? "encrypted at rest by K3s secrets-encryption"
                      : "NOT encrypted at rest (secrets-encryption is off)";
            data.push({ kind: "Kubernetes Secret", name: `${String(meta_?.namespace)}/${String(meta_?.name)}`, ...where, detail: `type ${String(r.inputs.type ?? "Opaque")}; ${atRest}; values not shown` });
        }
        if (r.type === HELM_RELEASE) {
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

    const fwScript = scriptOf(records, "firewall");
    let firewall: string[] | undefined;
    if (fwScript !== undefined) {
        const fw = String(fwScript.inputs.create);
        const chain = /chain input \{([\s\S]*?)\n\s*\}/.exec(fw)?.[1] ?? "";
        const sets = [...fw.matchAll(/set (\w+) \{[\s\S]*?(?:elements = \{ ([^}]*) \})?\s*\n\s*\}/g)].map((m) => `set ${m[1]}: ${m[2] ?? "(empty)"}`);
        firewall = [...sets, ...chain.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))];
    }

    const kernelScript = scriptOf(records, "kernel");
    let kernel: Record<string, string> | undefined;
    if (kernelScript !== undefined) {
        kernel = {};
        const profile = /\nset -- \\\n([\s\S]*?)\nwhile /.exec(String(kernelScript.inputs.create))?.[1] ?? "";
        for (const m of profile.matchAll(/^ {2}([a-z0-9_.-]+) (\S.*?)(?: \\)?$/gm)) {
            kernel[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
        }
    }

    const versions: Evidence["versions"] = [];
    if (cluster?.version !== undefined) {
        versions.push({ component: "K3s", version: cluster.version, source: "get.k3s.io installer (or the staged air-gap binary), pinned" });
    }
    for (const r of records.filter((x) => x.type === HELM_RELEASE)) {
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
    let tlsWarning: string | undefined;
    if (tlsMode.startsWith("self-signed") && meta.production.production) {
        tlsWarning = `a production stack (${meta.production.why}) serves a self-signed certificate: browsers and clients refuse it unless told to trust it. Use tls.mode acme or provided`;
        warnings.push(tlsWarning);
    }

    // Secrets in plain text, in memory only, as the rules see them (connection hosts, targets).
    const plainViews: ResourceView[] = records.map((r) => ({ type: r.type, name: r.name, props: r.plainInputs ?? r.inputs }));
    const failedRules = new Set(results.map((r) => r.policy));
    return {
        meta,
        hosts: [{ ...where, ...(stamp.site ? { site: stamp.site } : {}), ...(stamp.provider ? { provider: stamp.provider } : {}) }],
        ...(cluster !== undefined ? { cluster } : {}),
        dataResources: data,
        ...(firewall !== undefined ? { firewall } : {}),
        ...(kernel !== undefined ? { kernel } : {}),
        versions,
        images: imagesOf(records),
        tls: { mode: tlsMode, ...(tlsWarning !== undefined ? { warning: tlsWarning } : {}) },
        network: networkOf(plainViews),
        backups: backupReport(plainViews, config).map((b) => {
            const script = String(records.find((r) => r.name === b.usedBy)?.inputs.create ?? "");
            const schedule = /\nOnCalendar=(.*)\n/.exec(script)?.[1];
            const keep = ["DAILY", "WEEKLY", "MONTHLY"].map((k) => `${k.toLowerCase()} ${new RegExp(`\\nKEEP_${k}=(\\d+)\\n`).exec(script)?.[1] ?? "?"}`).join(", ");
            return { ...b, ...(schedule !== undefined ? { schedule } : {}), retention: keep };
        }),
        policies: { rules: rules.map((r) => r.name), passed: rules.map((r) => r.name).filter((n) => !failedRules.has(n)), violations: [...results] },
        warnings,
    };
}

function table(head: string[], rows: string[][]): string {
    const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** Renders the evidence as Markdown. */
export function renderReportMarkdown(e: Evidence, config: PackConfig): string {
    const mandatory = e.policies.violations.filter((r) => r.enforcementLevel === "mandatory").length;
    const verdict = e.policies.violations.length === 0 ? "All policies pass." : `${mandatory} mandatory and ${e.policies.violations.length - mandatory} advisory violation(s).`;
    const sections: string[] = [
        `# Sovereignty report: stack \`${e.meta.stack}\``,
        `Generated ${e.meta.generatedAt} by \`${e.meta.library}\` from the planned resources${e.meta.projectCommit ? ` of commit ${e.meta.projectCommit}` : ""}; config hash \`${e.meta.configHash.slice(0, 16)}\`. It answers: where does personal data live, and what stops it leaving? Allowed countries: ${config.allowedCountries.join(", ")}. ${e.meta.production.production ? `A production stack: ${e.meta.production.why}.` : `Not a production stack: ${e.meta.production.why}.`}`,
    ];
    if (e.warnings.length > 0) {
        sections.push(`## Warnings\n\n${e.warnings.map((w) => `- ${w}`).join("\n")}`);
    }
    sections.push(
        `## Where the data lives\n\n${table(["host", "country", "region", "site", "provider"], e.hosts.map((h) => [h.host, h.country, h.region, h.site ?? "", h.provider ?? ""]))}`,
    );
    if (e.cluster !== undefined) {
        sections.push(
            `**Cluster state** (K3s ${e.cluster.version ?? ""}): datastore ${e.cluster.datastore}; snapshots: ${e.cluster.snapshots}; Secrets ${e.cluster.secretsEncryption ? "encrypted at rest (secrets-encryption)" : "not encrypted at rest"}.`,
        );
    }
    if (e.dataResources.length > 0) {
        sections.push(table(["data", "name", "host", "country", "region", "path", "detail"], e.dataResources.map((d) => [d.kind, d.name, d.host, d.country, d.region, d.path ?? "", d.detail])));
    }
    sections.push(`## What stops it leaving\n\n**Policy verdicts.** ${verdict} Rules checked: ${e.policies.rules.join(", ")}.`);
    if (e.policies.violations.length > 0) {
        sections.push(table(["policy", "level", "resource", "message"], e.policies.violations.map((r) => [r.policy, r.enforcementLevel, `${r.type} ${r.name}`, r.message])));
    }
    if (e.firewall !== undefined) {
        sections.push(`**Host firewall** (nftables table \`inet sovereign_faas\`, default drop):\n\n${e.firewall.map((l) => `- \`${l}\``).join("\n")}`);
    }
    sections.push(`**TLS:** ${e.tls.mode}.${e.tls.warning !== undefined ? ` Warning: ${e.tls.warning}.` : ""}`);
    sections.push(
        `## Backups\n\n${
            e.backups.length > 0
                ? `Restic (encrypted, deduplicated) of the K3s datastore with its token and of the sovereign volumes; a failed run fails \`sovereign-backup.service\` and logs at err priority.\n\n${table(
                      ["target", "kind", "schedule (OnCalendar)", "retention", "location evidence"],
                      e.backups.map((b) => [b.target, b.kind, b.schedule ?? "", b.retention ?? "", b.evidence]),
                  )}`
                : "This stack configures no backups: the cluster state and the volumes live on one disk of one host."
        }`,
    );
    const n = e.network;
    const netRows = n.namespaces.flatMap((ns) => ns.policies.map((p) => [ns.namespace, ns.defaultDenyEgress ? "yes" : "NO", p.name, p.pods, p.egress.join("<br>")]));
    sections.push(
        [
            "## Network: what each namespace may reach",
            netRows.length > 0
                ? `Kubernetes NetworkPolicies (K3s enforces them with kube-router). Traffic from the node itself is always allowed into pods, and hostNetwork pods are not subject to policies: on one node, host processes are limited by the host firewall, not by these.\n\n${table(["namespace", "default-deny egress", "policy", "pods", "egress to"], netRows)}`
                : "This stack manages no NetworkPolicies.",
            n.exceptions.length > 0 ? `**Declared exceptions** (destinations reached by name, abroad):\n\n${n.exceptions.map((x) => `- \`${x.policy}\` (${x.exception}): ${x.why}`).join("\n")}` : "",
            `**Registry evidence** (${n.dataset.package}@${n.dataset.version}, RIR registrations as of ${n.dataset.date}; ${n.dataset.licence}):\n\n${
                n.addresses.length > 0 ? table(["address", "what", "used by", "registered"], n.addresses.map((a) => [a.address, a.what, a.usedBy, a.evidence])) : "No IP address or egress range to look up."
            }`,
        ]
            .filter((x) => x !== "")
            .join("\n\n"),
    );
    if (e.kernel !== undefined && Object.keys(e.kernel).length > 0) {
        sections.push(`## Kernel and CIS settings\n\n${table(["sysctl", "value"], Object.entries(e.kernel).map(([k, v]) => [k, v]))}`);
    }
    if (e.versions.length > 0) {
        sections.push(`## Pinned versions\n\n${table(["component", "version", "source"], e.versions.map((v) => [v.component, v.version, v.source]))}`);
    }
    sections.push(
        `## Images (supply chain)\n\nWhere the code comes from, not where data goes: the registries below serve the images; data-location rules do not judge them.\n\n${table(["image", "registry", "used by"], e.images.map((i) => [i.image, i.registry, i.usedBy]))}`,
    );
    return `${sections.join("\n\n")}\n`;
}
