/**
 * Run-time egress: every namespace that runs workloads denies egress by default, no policy opens
 * everything, and every address a stack names carries registry evidence of an allowed country.
 *
 * "Everything" is judged by coverage, not spelling: an egress rule without `to` (or with `to:
 * []`) matches every destination (networking/v1 NetworkPolicyEgressRule: "If this field is empty
 * or missing, this rule matches all destinations"), and ipBlocks whose union covers every public
 * IPv4 address (0.0.0.0/0 less special-purpose space), or all of 2000::/3 (IPv6 global unicast),
 * are everything too, however they are split (0.0.0.0/1 + 128.0.0.0/1) and whatever they except
 * of private space.
 */
import * as ipaddr from "ipaddr.js";

import { dig, HELM_RELEASE, podTemplate, REMOTE_COMMAND } from "./inspect";
import { DATASET_LABEL, describeEvidence, foreignStretches, parseRange, registryEvidence, specialCidrs } from "./registry";
import { isObject, isUnknown, PackConfig, ResourceView, Rule, Violation } from "./types";

export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const EXCEPTION_ANNOTATION = "sovereign-faas.io/egress-exception";

/**
 * The destinations the platform must reach by name, abroad, in the exact shape the pack accepts
 * (the library's components/network/policies.ts EGRESS_EXCEPTIONS; a test keeps the two equal).
 */
export const EGRESS_EXCEPTIONS: Readonly<Record<string, { namespace: string; podSelector: Record<string, unknown>; ports: readonly number[]; why: string }>> = {
    acme: {
        namespace: "cert-manager",
        podSelector: { matchLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" } },
        ports: [80, 443],
        why: "tls.mode acme: cert-manager's controller calls Let's Encrypt's ACME API (acme-v02.api.letsencrypt.org:443, which publishes no IP ranges) and runs the HTTP-01 self-check against the domain on 80 and 443",
    },
    "openfaas-ce-connectivity": {
        namespace: "openfaas",
        podSelector: { matchLabels: { app: "gateway" } },
        ports: [443],
        why: "OpenFaaS CE: faas-netes checks https://checkip.amazonaws.com at start and exits when it cannot reach it (faas-netes connectivity.go); OpenFaaS Pro has no such check",
    },
};

const namespaceOf = (r: ResourceView): string => {
    const ns = r.type === HELM_RELEASE ? r.props.namespace : dig(r.props, "metadata", "namespace");
    return typeof ns === "string" && ns !== "" ? ns : "default";
};

/** Whether a resource runs pods: a workload with a pod template, or a Helm release (its charts install workloads). */
function runsWorkloads(r: ResourceView): boolean {
    return podTemplate(r) !== undefined || r.type === HELM_RELEASE;
}

function isEmptySelector(s: unknown): boolean {
    if (!isObject(s)) {
        return s === undefined;
    }
    const labels = s.matchLabels;
    const exprs = s.matchExpressions;
    return (labels === undefined || (isObject(labels) && Object.keys(labels).length === 0)) && (exprs === undefined || (Array.isArray(exprs) && exprs.length === 0));
}

/** A policy that selects every pod of its namespace and allows no egress at all. */
export function isDefaultDenyEgress(r: ResourceView): boolean {
    if (r.type !== NETWORK_POLICY) {
        return false;
    }
    const spec = dig(r.props, "spec");
    const types = dig(spec, "policyTypes");
    const egress = dig(spec, "egress");
    return isEmptySelector(dig(spec, "podSelector")) && Array.isArray(types) && types.includes("Egress") && (egress === undefined || (Array.isArray(egress) && egress.length === 0));
}

type Interval = [bigint, bigint];

function merge(intervals: Interval[]): Interval[] {
    const sorted = [...intervals].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const out: Interval[] = [];
    for (const [a, b] of sorted) {
        const last = out[out.length - 1];
        if (last !== undefined && a <= last[1] + 1n) {
            if (b > last[1]) {
                last[1] = b;
            }
        } else {
            out.push([a, b]);
        }
    }
    return out;
}

function subtract(from: Interval[], cut: Interval[]): Interval[] {
    let out = merge(from);
    for (const [c0, c1] of merge(cut)) {
        const next: Interval[] = [];
        for (const [a, b] of out) {
            if (c1 < a || c0 > b) {
                next.push([a, b]);
                continue;
            }
            if (a < c0) {
                next.push([a, c0 - 1n]);
            }
            if (b > c1) {
                next.push([c1 + 1n, b]);
            }
        }
        out = next;
    }
    return out;
}

function covers(union: Interval[], need: Interval[]): boolean {
    return subtract(need, union).length === 0;
}

function intervalOf(cidr: string): { v6: boolean; interval: Interval } | undefined {
    const r = parseRange(cidr);
    return r === undefined ? undefined : { v6: r.v6, interval: [r.first, r.last] };
}

/** Special-purpose space per family (registry.ts specialCidrs), as intervals. */
function specialIntervals(v6: boolean): Interval[] {
    return specialCidrs(v6 ? "ipv6" : "ipv4")
        .map(([net, prefix]) => intervalOf(`${net.toString()}/${prefix}`)?.interval)
        .filter((i): i is Interval => i !== undefined);
}

/** What "everything" is, per family: every public IPv4 address; all of 2000::/3 less special space. */
const EVERYTHING = {
    v4: subtract([[0n, (1n << 32n) - 1n]], specialIntervals(false)),
    v6: subtract([intervalOf("2000::/3")!.interval], specialIntervals(true)),
};

/** The ipBlocks of a set of egress rules, as the addresses they reach, per family. */
function reach(rules: unknown[]): { v4: Interval[]; v6: Interval[] } {
    const out: { v4: Interval[]; v6: Interval[] } = { v4: [], v6: [] };
    for (const rule of rules) {
        for (const peer of Array.isArray(dig(rule, "to")) ? (dig(rule, "to") as unknown[]) : []) {
            const cidr = dig(peer, "ipBlock", "cidr");
            if (typeof cidr !== "string") {
                continue;
            }
            const block = intervalOf(cidr);
            if (block === undefined) {
                continue;
            }
            const except = (Array.isArray(dig(peer, "ipBlock", "except")) ? (dig(peer, "ipBlock", "except") as unknown[]) : [])
                .map((e) => (typeof e === "string" ? intervalOf(e)?.interval : undefined))
                .filter((e): e is Interval => e !== undefined);
            out[block.v6 ? "v6" : "v4"].push(...subtract([block.interval], except));
        }
    }
    return out;
}

/** Why a policy's egress allows everything, or undefined. */
export function allowsEverything(r: ResourceView): string | undefined {
    const egress = dig(r.props, "spec", "egress");
    if (!Array.isArray(egress)) {
        return undefined;
    }
    for (const [i, rule] of egress.entries()) {
        const to = dig(rule, "to");
        if (to === undefined || (Array.isArray(to) && to.length === 0)) {
            return `egress[${i}] has no \`to\`, which matches every destination`;
        }
    }
    const r4 = reach(egress);
    if (covers(merge(r4.v4), EVERYTHING.v4)) {
        return "its ipBlocks together cover every public IPv4 address (the same as 0.0.0.0/0)";
    }
    if (covers(merge(r4.v6), EVERYTHING.v6)) {
        return "its ipBlocks together cover all of IPv6 global unicast space (the same as ::/0)";
    }
    return undefined;
}

/** JSON with sorted keys: equal objects, equal text. */
function canonical(v: unknown): string {
    return JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** The exception a policy carries, when it is one the pack knows and has exactly that shape. */
export function acceptedException(r: ResourceView): string | undefined {
    const name = dig(r.props, "metadata", "annotations", EXCEPTION_ANNOTATION);
    if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(EGRESS_EXCEPTIONS, name)) {
        return undefined;
    }
    const e = EGRESS_EXCEPTIONS[name];
    const egress = dig(r.props, "spec", "egress");
    const portsOk =
        Array.isArray(egress) &&
        egress.every((rule) => {
            const ports = dig(rule, "ports");
            return Array.isArray(ports) && ports.length > 0 && ports.every((p) => e.ports.includes(Number(dig(p, "port"))) && dig(p, "endPort") === undefined);
        });
    const ingress = dig(r.props, "spec", "ingress");
    const sameShape = namespaceOf(r) === e.namespace && canonical(dig(r.props, "spec", "podSelector")) === canonical(e.podSelector) && (ingress === undefined || (Array.isArray(ingress) && ingress.length === 0));
    return portsOk && sameShape ? name : undefined;
}

export const egressDefaultDeny: Rule = {
    name: "egress-default-deny",
    description:
        "Checks whether every namespace that runs workloads has a default-deny egress NetworkPolicy (all pods, policyTypes Egress, no egress rules), and whether any NetworkPolicy allows every destination (no `to`, 0.0.0.0/0, ::/0, or ranges that add up to them) outside the exceptions the pack knows.",
    enforcementLevel: "mandatory",
    settings: [],
    checkStack(resources) {
        const out: Violation[] = [];
        const denied = new Set(resources.filter(isDefaultDenyEgress).map(namespaceOf));
        const seen = new Set<string>();
        for (const r of resources.filter(runsWorkloads)) {
            const ns = namespaceOf(r);
            if (!denied.has(ns) && !seen.has(ns)) {
                seen.add(ns);
                out.push({ resource: r, message: `Namespace ${ns} runs workloads (${r.name}) and must have a default-deny egress NetworkPolicy (podSelector: {}, policyTypes: [Egress], no egress rules), so that nothing there reaches a destination it did not declare.` });
            }
        }
        for (const r of resources.filter((x) => x.type === NETWORK_POLICY)) {
            const why = allowsEverything(r);
            if (why !== undefined && acceptedException(r) === undefined) {
                out.push({ resource: r, message: `NetworkPolicy ${r.name} must not allow every destination: ${why}. List the ranges the pods really reach.` });
            }
        }
        return out;
    },
};

/** Every address a stack names that has a registry answer: the hosts it bootstraps, and its egress ranges. */
export function registryTargets(resources: readonly ResourceView[]): Array<{ resource: ResourceView; what: string; address: string }> {
    const out: Array<{ resource: ResourceView; what: string; address: string }> = [];
    const hosts = new Set<string>();
    for (const r of resources) {
        if (r.type === REMOTE_COMMAND) {
            const host = dig(r.props, "connection", "host");
            if (typeof host === "string" && !isUnknown(host) && ipaddr.isValid(host) && !hosts.has(host)) {
                hosts.add(host);
                out.push({ resource: r, what: "the host", address: host });
            }
        }
        if (r.type === NETWORK_POLICY && acceptedException(r) === undefined) {
            const egress = dig(r.props, "spec", "egress");
            for (const rule of Array.isArray(egress) ? egress : []) {
                for (const peer of Array.isArray(dig(rule, "to")) ? (dig(rule, "to") as unknown[]) : []) {
                    const cidr = dig(peer, "ipBlock", "cidr");
                    if (typeof cidr === "string") {
                        out.push({ resource: r, what: "an egress range", address: cidr });
                    }
                }
            }
        }
    }
    return out;
}

export const addressesRegisteredHere: Rule = {
    name: "addresses-registered-here",
    description: `Checks whether the host's address (when it is an IP) and every egress range of every NetworkPolicy are registered with the RIRs in an allowed country, or are private or special-purpose space; the evidence is ${DATASET_LABEL}.`,
    enforcementLevel: "mandatory",
    settings: ["allowedCountries"],
    checkStack(resources, config: PackConfig) {
        const out: Violation[] = [];
        for (const t of registryTargets(resources)) {
            const evidence = registryEvidence(t.address);
            if (evidence === undefined) {
                continue;
            }
            const foreign = foreignStretches(evidence, config.allowedCountries);
            if (foreign.length > 0) {
                const where = foreign
                    .slice(0, 5)
                    .map((s) => `${s.first === s.last ? s.first : `${s.first}-${s.last}`} ${s.country === "unregistered" ? "is registered nowhere (no evidence)" : `is registered in ${s.country}`}`)
                    .join("; ");
                out.push({
                    resource: t.resource,
                    message: `${t.resource.name}: ${t.what} ${t.address} must be registered in ${config.allowedCountries.join(", ")}: ${where}${foreign.length > 5 ? `; and ${foreign.length - 5} more` : ""} (${DATASET_LABEL}).`,
                });
            }
        }
        return out;
    },
};

/** For the report: each target with its evidence. */
export function registryReport(resources: readonly ResourceView[]): Array<{ what: string; address: string; usedBy: string; evidence: string }> {
    return registryTargets(resources).map((t) => {
        const e = registryEvidence(t.address);
        return { what: t.what, address: t.address, usedBy: t.resource.name, evidence: e === undefined ? "not an address" : describeEvidence(e) };
    });
}
