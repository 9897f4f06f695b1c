/**
 * The K3s configuration a stack installs, judged as data locations: where the datastore, its
 * snapshots and the control plane are, and which flags move them or switch off what the
 * platform's guarantees rest on. The configuration is config.yaml in the install script plus the
 * secret drop-in on the step's standard input (the pack sees it in plain text: CrossGuard
 * unwraps secrets, and so does the offline plan). Messages about a secret value never show it.
 */
import * as yaml from "js-yaml";

import { endpointProblem, hostsIn } from "./data-rules";
import { k3sConfigOf, REMOTE_COMMAND } from "./inspect";
import { isObject, isUnknown, PackConfig, ResourceView, Rule } from "./types";

/** K3s's default S3 endpoint for etcd snapshots when `etcd-s3` is on and no endpoint is given (pkg/cli/cmds/server.go). */
export const K3S_DEFAULT_S3_ENDPOINT = "s3.amazonaws.com";
/** Where K3s keeps SQLite (kine) by default: `<data-dir>/server/db/state.db`. */
export const K3S_DEFAULT_SQLITE = "/var/lib/rancher/k3s/server/db/state.db";

/** The K3s settings a command installs: config.yaml merged with the secret drop-in (the drop-in wins, as K3s reads it after). */
export interface K3sSettingsView {
    readonly config: Record<string, unknown>;
    /** Keys that came from the secret drop-in. */
    readonly secretKeys: ReadonlySet<string>;
    /** Why some settings could not be read (a drop-in whose value is not known), or undefined. */
    readonly unreadable?: string;
}

/** The K3s settings of an install command, or undefined when the command installs no K3s config. */
export function k3sSettingsOf(r: ResourceView): K3sSettingsView | undefined {
    const plain = k3sConfigOf(r);
    if (plain === undefined) {
        return undefined;
    }
    const stdin = r.props.stdin;
    if (stdin === undefined) {
        return { config: plain, secretKeys: new Set() };
    }
    if (typeof stdin !== "string" || isUnknown(stdin)) {
        return { config: plain, secretKeys: new Set(), unreadable: "the step's standard input (its secret K3s flags) is not known at this point" };
    }
    let dropIn: unknown;
    try {
        dropIn = yaml.load(stdin, { json: true });
    } catch {
        return { config: plain, secretKeys: new Set(), unreadable: "the step's standard input is not a K3s config drop-in" };
    }
    const secret = isObject(dropIn) ? dropIn : {};
    return { config: { ...plain, ...secret }, secretKeys: new Set(Object.keys(secret)) };
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)]);
const truthy = (v: unknown): boolean => v === true || v === "true";

/**
 * The hosts a datastore-endpoint names: none for SQLite (`sqlite://...` or a path), else every
 * host of its DSN, which may be a URL list (etcd), `user:pass@tcp(host:port)/db` (MySQL),
 * `postgres://`, `nats://` or key=value text.
 */
export function datastoreHosts(dsn: string): { local: boolean; hosts: string[] } {
    const t = dsn.trim();
    if (t === "" || /^sqlite:\/\//i.test(t) || /^(\/|\.\/|file:)/.test(t) || /^unix:\/\//i.test(t)) {
        return { local: true, hosts: [] };
    }
    const hosts = new Set<string>(hostsIn(t));
    for (const m of t.matchAll(/\btcp\(\[?([^)\]]+?)\]?(?::\d+)?\)/g)) {
        hosts.add(m[1].toLowerCase());
    }
    for (const part of t.split(/[,\s;]+/)) {
        for (const h of hostsIn(part)) {
            hosts.add(h);
        }
    }
    return { local: false, hosts: [...hosts] };
}

function judge(where: string, hosts: readonly string[], secret: boolean, config: PackConfig): string[] {
    const out: string[] = [];
    for (const h of hosts) {
        const problem = endpointProblem(h, config);
        if (problem !== undefined) {
            // A secret value's host is part of the secret: name the rule it breaks, not the host.
            out.push(secret ? `${where} (a secret value) points outside the allowed jurisdiction: ${problem.replace(h, "its host")}` : `${where} points at ${problem}`);
        }
    }
    return out;
}

/** Pass-through items that move state or labels past what the stack manages, by flag and item name. */
const STATE_PASS_THROUGH: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    "kube-apiserver-arg": { "etcd-servers": "points the API server at another datastore" },
    "kubelet-arg": { "node-labels": "sets node labels past node-label, where the jurisdiction and region labels are", "root-dir": "moves every pod volume's data" },
    "etcd-arg": { "data-dir": "moves etcd's data" },
};

export const k3sStateLocal: Rule = {
    name: "k3s-state-local",
    description:
        "Checks whether the K3s install keeps the cluster state on the host or on allowed hosts: the datastore, etcd snapshots and their S3 target, the control plane it joins, and pass-through flags that move state or labels; and that network policy stays on.",
    enforcementLevel: "mandatory",
    settings: ["allowedEgressDomains", "clusterNamespaces", "foreignStoragePatterns"],
    checkResource(r, config) {
        if (r.type !== REMOTE_COMMAND) {
            return [];
        }
        const view = k3sSettingsOf(r);
        if (view === undefined) {
            return [];
        }
        const c = view.config;
        const secret = (k: string): boolean => view.secretKeys.has(k);
        const out: string[] = [];
        const must = (what: string): void => {
            out.push(`K3s of ${r.name} must keep the cluster state on the host or on allowed hosts, with network policy on: ${what}.`);
        };
        if (view.unreadable !== undefined) {
            must(`its settings could not be checked: ${view.unreadable}`);
        }
        if (typeof c.unparsable === "string") {
            must(`its config.yaml could not be parsed (${c.unparsable})`);
        }
        if (c.server !== undefined) {
            must(`server joins the control plane of ${secret("server") ? "a server named in a secret value" : JSON.stringify(String(c.server))}, where the cluster state then lives`);
        }
        if (c["data-dir"] !== undefined) {
            must(`data-dir moves the state to ${JSON.stringify(String(c["data-dir"]))}, which the stack's steps and backups do not cover; keep /var/lib/rancher/k3s`);
        }
        const dsn = c["datastore-endpoint"];
        if (dsn !== undefined) {
            if (typeof dsn !== "string" || isUnknown(dsn)) {
                must("datastore-endpoint could not be checked: its value is not known at this point");
            } else {
                const { local, hosts } = datastoreHosts(dsn);
                if (!local && hosts.length === 0) {
                    must(`datastore-endpoint ${secret("datastore-endpoint") ? "(a secret value)" : JSON.stringify(dsn)} names no host this check can read`);
                }
                for (const m of judge("datastore-endpoint", hosts, secret("datastore-endpoint"), config)) {
                    must(m);
                }
            }
        }
        if (truthy(c["etcd-s3"])) {
            const endpoint = c["etcd-s3-endpoint"] ?? K3S_DEFAULT_S3_ENDPOINT;
            if (typeof endpoint !== "string" || isUnknown(endpoint)) {
                must("etcd-s3-endpoint could not be checked: its value is not known at this point");
            } else {
                const hosts = hostsIn(endpoint).length > 0 ? hostsIn(endpoint) : [endpoint.trim().toLowerCase()];
                for (const m of judge(`etcd-s3 snapshots (etcd-s3-endpoint${c["etcd-s3-endpoint"] === undefined ? " unset: K3s's default" : ""})`, hosts, secret("etcd-s3-endpoint"), config)) {
                    must(m);
                }
            }
        }
        for (const [flag, items] of Object.entries(STATE_PASS_THROUGH)) {
            for (const item of asList(c[flag])) {
                const name = /^-{0,2}([A-Za-z0-9-]+)/.exec(item)?.[1] ?? "";
                if (Object.prototype.hasOwnProperty.call(items, name)) {
                    must(`${flag} ${name} ${items[name]}`);
                }
            }
        }
        for (const flag of ["kube-apiserver-arg", "etcd-arg", "kube-controller-manager-arg", "kube-scheduler-arg", "kube-cloud-controller-manager-arg", "kubelet-arg", "kube-proxy-arg"]) {
            for (const item of asList(c[flag])) {
                const value = item.includes("=") ? item.slice(item.indexOf("=") + 1) : "";
                for (const m of judge(`${flag} ${item.split("=")[0]}`, hostsIn(value), secret(flag), config)) {
                    must(m);
                }
            }
        }
        if (truthy(c["disable-network-policy"])) {
            must("disable-network-policy switches off the NetworkPolicy controller, and with it every egress rule that keeps data in");
        }
        if (c["flannel-backend"] === "none") {
            must('flannel-backend "none" leaves the cluster without the CNI whose network policies keep data in');
        }
        return out;
    },
};
