import { dig, HELM_RELEASE, INGRESS, podTemplate } from "./inspect";
import { isObject, isUnknown, PackConfig, ResourceView, Rule, Violation } from "./types";

/** Keys whose values name images or chart sources, not data endpoints. */
const NOT_DATA_KEYS = new Set(["image", "repository", "registry", "tag", "digest", "imagePullPolicy", "pullPolicy"]);
const URL = /\b[a-z][a-z0-9+.-]*:\/\/([^\s/"'<>?#]+)/gi;
const BARE_HOST = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(?:\/\S*)?$/i;

function hostOf(authority: string): string {
    const noUser = authority.includes("@") ? authority.slice(authority.lastIndexOf("@") + 1) : authority;
    return noUser.startsWith("[") ? noUser.slice(1, noUser.indexOf("]")) : noUser.split(":")[0].toLowerCase();
}

/** Host names in a text: those of URLs, or the text itself when it is a bare `host[:port]`. */
export function hostsIn(text: string): string[] {
    const hosts = [...text.matchAll(URL)].map((m) => hostOf(m[1]));
    if (hosts.length === 0) {
        const m = BARE_HOST.exec(text.trim());
        // A bare word with a dot is a host only if its last label is alphabetic (not "1.2.3" or "v1.0").
        if (m && /\.[a-z]{2,}$/i.test(m[1]) && !/^\d+(\.\d+)+$/.test(m[1])) {
            hosts.push(m[1].toLowerCase());
        }
    }
    return hosts;
}

function isIp(host: string): boolean {
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

function isPrivateIp(host: string): boolean {
    return /^(10\.|127\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || host === "::1" || /^f[cd]/i.test(host);
}

/** In-cluster names: no dot, `*.svc`, `*.cluster.local`, or `<service>.<namespace>` of a known namespace. */
export function isInCluster(host: string, config: PackConfig): boolean {
    if (!host.includes(".") || host === "localhost") {
        return true;
    }
    if (host.endsWith(".svc") || host.endsWith(".svc.cluster.local") || host.endsWith(".cluster.local")) {
        return true;
    }
    const labels = host.split(".");
    return labels.length === 2 && config.clusterNamespaces.includes(labels[1]);
}

function suffixMatch(host: string, suffix: string): boolean {
    const s = suffix.replace(/^\*?\.?/, "").toLowerCase();
    return host === s || host.endsWith(`.${s}`);
}

/** Why a host is not an allowed data endpoint, or undefined when it is. */
export function endpointProblem(host: string, config: PackConfig): string | undefined {
    const foreign = config.foreignStoragePatterns.find((p) => suffixMatch(host, p));
    if (foreign !== undefined) {
        return `${host} is foreign storage (${foreign})`;
    }
    if (isInCluster(host, config) || (isIp(host) && isPrivateIp(host))) {
        return undefined;
    }
    if (config.allowedEgressDomains.some((d) => suffixMatch(host, d))) {
        return undefined;
    }
    return `${host} is outside the allowed domains (${config.allowedEgressDomains.join(", ")})`;
}

/** Every (where, text) pair of data a resource carries: env values, Secret and ConfigMap data, Helm values. */
export function dataValues(r: ResourceView): Array<{ where: string; text: string }> {
    const out: Array<{ where: string; text: string }> = [];
    const pod = podTemplate(r);
    if (pod !== undefined) {
        const containers = [...(Array.isArray(pod.spec.containers) ? pod.spec.containers : []), ...(Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [])];
        for (const c of containers.filter(isObject)) {
            for (const e of Array.isArray(c.env) ? c.env.filter(isObject) : []) {
                if (typeof e.value === "string") {
                    out.push({ where: `env ${String(e.name)} of container ${String(c.name)}`, text: e.value });
                }
            }
        }
    }
    if (r.type === "kubernetes:core/v1:Secret" || r.type === "kubernetes:core/v1:ConfigMap") {
        for (const field of ["stringData", "data"]) {
            const d = r.props[field];
            if (!isObject(d)) {
                continue;
            }
            for (const [k, v] of Object.entries(d)) {
                if (typeof v !== "string" || isUnknown(v)) {
                    continue;
                }
                const text = field === "data" && r.type === "kubernetes:core/v1:Secret" ? Buffer.from(v, "base64").toString("utf8") : v;
                out.push({ where: `${field}.${k}`, text });
            }
        }
    }
    if (r.type === HELM_RELEASE) {
        const walk = (v: unknown, at: string): void => {
            if (typeof v === "string") {
                out.push({ where: `values.${at}`, text: v });
            } else if (Array.isArray(v)) {
                v.forEach((x, i) => walk(x, `${at}[${i}]`));
            } else if (isObject(v)) {
                for (const [k, child] of Object.entries(v)) {
                    if (!NOT_DATA_KEYS.has(k)) {
                        walk(child, at === "" ? k : `${at}.${k}`);
                    }
                }
            }
        };
        walk(r.props.values, "");
    }
    return out.filter((x) => !isUnknown(x.text));
}

export const noForeignDataEndpoints: Rule = {
    name: "no-foreign-data-endpoints",
    description: "Checks whether any environment variable, Secret, ConfigMap or Helm value points data at a host outside the allowed domains or at foreign (US-owned) storage.",
    enforcementLevel: "mandatory",
    checkResource(r, config) {
        const out: string[] = [];
        for (const { where, text } of dataValues(r)) {
            for (const host of hostsIn(text)) {
                const problem = endpointProblem(host, config);
                if (problem !== undefined) {
                    out.push(`${r.name} must not send data outside the allowed jurisdiction: ${where} points at ${problem}.`);
                }
            }
        }
        return out;
    },
};

export const queueDataLocal: Rule = {
    name: "queue-data-local",
    description: "Checks whether NATS and JetStream, and every queue-worker and connector, keep queued messages on in-cluster or allowed hosts.",
    enforcementLevel: "mandatory",
    checkResource(r, config) {
        if (r.type !== HELM_RELEASE || !isObject(r.props.values)) {
            return [];
        }
        const v = r.props.values;
        const out: string[] = [];
        const check = (where: string, host: unknown): void => {
            if (typeof host !== "string" || isUnknown(host) || host === "") {
                return;
            }
            const h = hostsIn(host)[0] ?? host.split(":")[0];
            const problem = endpointProblem(h, config);
            if (problem !== undefined) {
                out.push(`${r.name} must keep queued messages in the cluster or on allowed hosts: ${where} points at ${problem}.`);
            }
        };
        if (dig(v, "nats", "external", "enabled") === true) {
            const host = dig(v, "nats", "external", "host");
            if (typeof host !== "string" || host === "") {
                out.push(`${r.name} must name the external NATS host (nats.external.host) so its location can be checked.`);
            }
            check("nats.external.host", host);
        }
        check("nats.host", dig(v, "nats", "host"));
        check("broker_host", v.broker_host);
        return out;
    },
};

export const ingressTlsRequired: Rule = {
    name: "ingress-tls-required",
    description: "Checks whether every Ingress serves its hosts over TLS (directly, or through the master of its mergeable group).",
    enforcementLevel: "mandatory",
    checkStack(resources) {
        const ingresses = resources.filter((r) => r.type === INGRESS);
        const tlsHosts = new Set<string>();
        const masters = new Set<string>();
        for (const ing of ingresses) {
            const tls = dig(ing.props, "spec", "tls");
            for (const t of Array.isArray(tls) ? tls : []) {
                for (const h of Array.isArray(dig(t, "hosts")) ? (dig(t, "hosts") as unknown[]) : []) {
                    if (dig(ing.props, "metadata", "annotations", "nginx.org/mergeable-ingress-type") === "master") {
                        masters.add(String(h));
                    }
                    tlsHosts.add(`${ing.name}|${String(h)}`);
                }
            }
        }
        const out: Violation[] = [];
        for (const ing of ingresses) {
            const rules = dig(ing.props, "spec", "rules");
            if (isUnknown(rules)) {
                continue;
            }
            const minion = dig(ing.props, "metadata", "annotations", "nginx.org/mergeable-ingress-type") === "minion";
            const hosts = (Array.isArray(rules) ? rules : []).map((x) => dig(x, "host"));
            if (hosts.length === 0) {
                out.push({ resource: ing, message: `Ingress ${ing.name} must name its hosts and serve them over TLS.` });
            }
            for (const h of hosts) {
                const covered = tlsHosts.has(`${ing.name}|${String(h)}`) || (minion && masters.has(String(h)));
                if (!covered) {
                    out.push({ resource: ing, message: `Ingress ${ing.name} must serve host ${String(h)} over TLS (spec.tls).` });
                }
            }
        }
        return out;
    },
};

export const functionLimitsSet: Rule = {
    name: "function-limits-set",
    description: "Checks whether every function container has memory and CPU limits.",
    enforcementLevel: "mandatory",
    checkResource(r) {
        const pod = podTemplate(r);
        if (pod === undefined) {
            return [];
        }
        const isFunction = dig(r.props, "metadata", "namespace") === "openfaas-fn" || dig(pod.metadata, "labels", "faas_function") !== undefined;
        if (!isFunction) {
            return [];
        }
        const out: string[] = [];
        for (const c of (Array.isArray(pod.spec.containers) ? pod.spec.containers : []).filter(isObject)) {
            for (const res of ["memory", "cpu"]) {
                if (dig(c, "resources", "limits", res) === undefined) {
                    out.push(`Function ${r.name} must set a ${res} limit on container ${String(c.name)}.`);
                }
            }
        }
        return out;
    },
};
