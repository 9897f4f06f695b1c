import { endpointOf, endpointsIn, isInClusterName, judgeEndpoint, MAX_ENDPOINTS } from "./endpoints";
import { dig, HELM_RELEASE, INGRESS, podTemplate } from "./inspect";
import { isObject, isUnknown, PackConfig, ResourceView, Rule, UNKNOWN_VALUE, UnknownAtPreview, Violation } from "./types";

/**
 * Image references: supply chain, not data. They are skipped only where the key and its
 * neighbours say "image" (an `image` string, or `repository`/`registry`/`tag`/`digest` inside an
 * `image` map or beside a `tag`) and the value parses as an image reference; anywhere else a
 * `repository` or `registry` is judged as data (a backup repository is data). The report lists
 * the images and their registries.
 */
const IMAGE_REFERENCE = /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const IMAGE_PART_KEYS = new Set(["repository", "registry", "tag", "digest", "pullPolicy", "imagePullPolicy"]);

/** Whether `key: value` inside `parent` (with sibling keys) is part of an image reference. */
export function isImageField(key: string, value: unknown, parentKey: string, siblings: readonly string[]): boolean {
    if (typeof value !== "string") {
        return false;
    }
    if (key === "pullPolicy" || key === "imagePullPolicy") {
        return /^(Always|IfNotPresent|Never)$/.test(value);
    }
    if (key === "tag") {
        return /^[\w][\w.-]{0,127}$/.test(value);
    }
    if (key === "digest") {
        return /^sha256:[a-f0-9]{64}$/.test(value);
    }
    const imageContext = key === "image" || /image$/i.test(parentKey) || siblings.includes("tag") || siblings.includes("digest");
    return imageContext && (key === "image" || IMAGE_PART_KEYS.has(key)) && IMAGE_REFERENCE.test(value);
}

/**
 * Keys whose values are never destinations: label and annotation keys used as values (affinity
 * `key`, `topologyKey`), NATS subjects, and the address a controller reports as its own
 * (NGINX `external-status-address` is written into Ingress status; nothing is sent to it).
 */
const NOT_DESTINATION_KEYS = new Set(["key", "topologyKey", "topic", "topics", "subject", "subjects", "external-status-address", "nodeSelectorTerms"]);

/** Normalised hosts a text names, once each, in order of appearance (see `endpointsIn`). */
export function hostsIn(text: string): string[] {
    return [...new Set(endpointsIn(text).map((e) => e.host))];
}

/** In-cluster names: one label, `*.svc`, `*.cluster.local`, or `<service>.<namespace>` of a known namespace. */
export function isInCluster(host: string, config: PackConfig): boolean {
    return isInClusterName(host, config);
}

/** Why a host (or `host:port`, or URL) is not an allowed data endpoint, or undefined when it is. */
export function endpointProblem(host: string, config: PackConfig): string | undefined {
    const endpoint = endpointOf(host);
    if (endpoint === undefined) {
        return `${JSON.stringify(host)} is not a host name or address, so where it points cannot be checked`;
    }
    const verdict = judgeEndpoint(endpoint, config);
    return verdict.ok ? undefined : verdict.detail;
}

/** Limits of the walk through Helm values: past them the rule fails closed. */
export const MAX_VALUE_NODES = 200_000;
export const MAX_VALUE_DEPTH = 64;

export interface DataValue {
    readonly where: string;
    readonly text: string;
    readonly secret: boolean;
    /** Set when the walk stopped here (too deep or too large): the rule fails closed. */
    readonly unchecked?: string;
}

/**
 * Every (where, text) pair of data a resource carries: env values, Secret and ConfigMap data,
 * Helm values. `secret` marks values whose text is secret (Secret data): a message about them
 * names the field and the rule, never the host.
 */
export function dataValues(r: ResourceView): DataValue[] {
    const out: DataValue[] = [];
    const pod = podTemplate(r);
    if (pod !== undefined) {
        const containers = [...(Array.isArray(pod.spec.containers) ? pod.spec.containers : []), ...(Array.isArray(pod.spec.initContainers) ? pod.spec.initContainers : [])];
        for (const c of containers.filter(isObject)) {
            for (const e of Array.isArray(c.env) ? c.env.filter(isObject) : []) {
                if (typeof e.value === "string") {
                    out.push({ where: `env ${String(e.name)} of container ${String(c.name)}`, text: e.value, secret: false });
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
                if (typeof v !== "string" || (isUnknown(v) && v !== UNKNOWN_VALUE)) {
                    continue;
                }
                const text = field === "data" && r.type === "kubernetes:core/v1:Secret" ? Buffer.from(v, "base64").toString("utf8") : v;
                out.push({ where: `${field}.${k}`, text, secret: r.type === "kubernetes:core/v1:Secret" });
            }
        }
    }
    if (r.type === HELM_RELEASE) {
        let budget = MAX_VALUE_NODES;
        let cut = false;
        const walk = (v: unknown, at: string, parentKey: string, depth: number): void => {
            if (cut) {
                return;
            }
            if (--budget < 0 || depth > MAX_VALUE_DEPTH) {
                // Fail closed: what is not read cannot pass a data-location rule.
                cut = true;
                out.push({ where: at === "" ? "values" : `values.${at}`, text: "", secret: false, unchecked: budget < 0 ? `has more than ${MAX_VALUE_NODES} values` : `nests more than ${MAX_VALUE_DEPTH} levels deep` });
                return;
            }
            if (typeof v === "string") {
                out.push({ where: at === "" ? "values" : `values.${at}`, text: v, secret: false });
            } else if (Array.isArray(v)) {
                v.forEach((x, i) => walk(x, `${at}[${i}]`, parentKey, depth + 1));
            } else if (isObject(v)) {
                const siblings = Object.keys(v);
                for (const [k, child] of Object.entries(v)) {
                    if (NOT_DESTINATION_KEYS.has(k) || isImageField(k, child, parentKey, siblings)) {
                        continue;
                    }
                    walk(child, at === "" ? k : `${at}.${k}`, k, depth + 1);
                }
            }
        };
        walk(r.props.values, "", "", 0);
    }
    // Unknowns stay, so that the rule can say it could not check them; absent and redacted go.
    return out.filter((x) => x.text === UNKNOWN_VALUE || !isUnknown(x.text));
}

export const noForeignDataEndpoints: Rule = {
    name: "no-foreign-data-endpoints",
    description: "Checks whether any environment variable, Secret, ConfigMap or Helm value points data at a host outside the allowed domains or at foreign (US-owned) storage.",
    enforcementLevel: "mandatory",
    settings: ["allowedEgressDomains", "clusterNamespaces", "foreignStoragePatterns"],
    checkResource(r, config) {
        const out: string[] = [];
        const unknown: string[] = [];
        for (const { where, text, secret, unchecked } of dataValues(r)) {
            if (text === UNKNOWN_VALUE) {
                unknown.push(where);
                continue;
            }
            if (unchecked !== undefined) {
                out.push(`${r.name} must not send data outside the allowed jurisdiction: ${where} ${unchecked}, more than can be checked.`);
                continue;
            }
            const endpoints = endpointsIn(text);
            if (endpoints.length >= MAX_ENDPOINTS) {
                out.push(`${r.name} must not send data outside the allowed jurisdiction: ${where} names more than ${MAX_ENDPOINTS} endpoints, more than can be checked.`);
            }
            for (const endpoint of endpoints) {
                const verdict = judgeEndpoint(endpoint, config);
                if (!verdict.ok) {
                    // A secret's host is part of the secret: name the field and the rule, not the host.
                    out.push(
                        secret
                            ? `${r.name} must not send data outside the allowed jurisdiction: ${where} (secret) points at ${verdict.why === "foreign-storage" ? "foreign storage" : verdict.why === "public-address" ? "a public address" : "a host outside the allowed domains"} (host not shown).`
                            : `${r.name} must not send data outside the allowed jurisdiction: ${where} points at ${verdict.detail}.`,
                    );
                }
            }
        }
        if (out.length === 0 && unknown.length > 0) {
            throw new UnknownAtPreview(unknown.join(", "));
        }
        return out;
    },
};

/** Truth as Go's text/template `if` sees it (Helm charts): false, 0, "", nil and empty maps and lists are false; everything else is true. */
export function helmTruthy(v: unknown): boolean {
    if (v === undefined || v === null || v === false || v === 0 || v === "") {
        return false;
    }
    if (Array.isArray(v)) {
        return v.length > 0;
    }
    if (isObject(v)) {
        return Object.keys(v).length > 0;
    }
    return true;
}

export const queueDataLocal: Rule = {
    name: "queue-data-local",
    description: "Checks whether NATS and JetStream, and every queue-worker and connector, keep queued messages on in-cluster or allowed hosts.",
    enforcementLevel: "mandatory",
    settings: ["allowedEgressDomains", "clusterNamespaces", "foreignStoragePatterns"],
    checkResource(r, config) {
        if (r.type !== HELM_RELEASE || !isObject(r.props.values)) {
            return [];
        }
        const v = r.props.values;
        const out: string[] = [];
        const unknown: string[] = [];
        const check = (where: string, host: unknown): void => {
            if (host === UNKNOWN_VALUE) {
                unknown.push(where);
                return;
            }
            if (typeof host !== "string" || isUnknown(host) || host === "") {
                return;
            }
            const problem = endpointProblem(host, config);
            if (problem !== undefined) {
                out.push(`${r.name} must keep queued messages in the cluster or on allowed hosts: ${where} points at ${problem}.`);
            }
        };
        // Helm's `if` decides, not JavaScript's: any non-empty string (even "false"), any non-zero
        // number and any non-empty map or list turns the external NATS on (text/template truth).
        const enabled = dig(v, "nats", "external", "enabled");
        if (isUnknown(enabled) && enabled !== undefined) {
            out.push(`${r.name} must keep queued messages in the cluster or on allowed hosts: nats.external.enabled could not be checked (its value is not known at this point).`);
        } else if (helmTruthy(enabled)) {
            const host = dig(v, "nats", "external", "host");
            if (typeof host !== "string" || host.trim() === "") {
                out.push(`${r.name} must name the external NATS host (nats.external.host) so its location can be checked.`);
            }
        }
        check("nats.external.host", dig(v, "nats", "external", "host"));
        check("nats.host", dig(v, "nats", "host"));
        check("broker_host", v.broker_host);
        if (out.length === 0 && unknown.length > 0) {
            throw new UnknownAtPreview(unknown.join(", "));
        }
        return out;
    },
};

export const ingressTlsRequired: Rule = {
    name: "ingress-tls-required",
    description: "Checks whether every Ingress serves its hosts over TLS (directly, or through the master of its mergeable group).",
    enforcementLevel: "mandatory",
    settings: [],
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
    settings: [],
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
