import { isObject, isUnknown, PackConfig, ResourceView, Rule } from "./types";
import { dig, HELM_RELEASE, JURISDICTION_LABEL, REGION_LABEL, REMOTE_COMMAND, hostPathsOf, locationStamp, podTemplate, regionAllowed, remoteStep, underRoot } from "./inspect";

function describeAllowed(config: PackConfig): string {
    return config.allowedRegions.length > 0 ? `regions ${config.allowedRegions.join(", ")}` : `a region of ${config.allowedCountries.join(", ")}`;
}

export const hostInAllowedCountry: Rule = {
    name: "host-in-allowed-country",
    description: "Checks whether every host the stack bootstraps over SSH declares a country and region inside the allow-lists.",
    enforcementLevel: "mandatory",
    settings: ["allowedCountries", "allowedRegions"],
    checkResource(r, config) {
        if (r.type !== REMOTE_COMMAND || isUnknown(r.props.create)) {
            return [];
        }
        const stamp = locationStamp(r);
        if (stamp === undefined) {
            return [`Remote command ${r.name} must declare its host's location (a "# sovereign-faas-location: {...}" line in its script).`];
        }
        const out: string[] = [];
        const { country, region } = stamp;
        if (typeof country !== "string" || !config.allowedCountries.includes(country)) {
            out.push(`Host of ${r.name} must be in an allowed country (${config.allowedCountries.join(", ")}); it declares ${JSON.stringify(country)}.`);
        }
        if (typeof region !== "string" || (typeof country === "string" && !region.startsWith(`${country}-`)) || !regionAllowed(region, config.allowedCountries, config.allowedRegions)) {
            out.push(`Host of ${r.name} must be in ${describeAllowed(config)}; it declares region ${JSON.stringify(region)}.`);
        }
        return out;
    },
};

/** The K3s config.yaml text inside the install script. */
function k3sConfig(r: ResourceView): string | undefined {
    if (r.type !== REMOTE_COMMAND || remoteStep(r) !== "k3s" || typeof r.props.create !== "string") {
        return undefined;
    }
    return r.props.create;
}

function nodeLabels(script: string): Record<string, string> {
    const m = /\nnode-label:\n((?:\s+- .*\n)+)/.exec(script);
    const labels: Record<string, string> = {};
    for (const line of m ? m[1].split("\n") : []) {
        const kv = /-\s+"?([^=\s"]+)=([^"\s]*)"?/.exec(line);
        if (kv) {
            labels[kv[1]] = kv[2];
        }
    }
    return labels;
}

export const sovereignNodeLabels: Rule = {
    name: "sovereign-node-labels",
    description: "Checks whether the Kubernetes node the stack installs carries the region and jurisdiction labels of an allowed location.",
    enforcementLevel: "mandatory",
    settings: ["allowedCountries", "allowedRegions"],
    checkResource(r, config) {
        const script = k3sConfig(r);
        if (script === undefined) {
            return [];
        }
        const labels = nodeLabels(script);
        const out: string[] = [];
        const j = labels[JURISDICTION_LABEL];
        if (j === undefined || !config.allowedCountries.includes(j)) {
            out.push(`K3s node of ${r.name} must carry ${JURISDICTION_LABEL} with an allowed country (${config.allowedCountries.join(", ")}); it has ${JSON.stringify(j)}.`);
        }
        const reg = labels[REGION_LABEL];
        if (reg === undefined || !regionAllowed(reg, config.allowedCountries, config.allowedRegions)) {
            out.push(`K3s node of ${r.name} must carry ${REGION_LABEL} with ${describeAllowed(config)}; it has ${JSON.stringify(reg)}.`);
        }
        return out;
    },
};

export const kubeconfigPrivate: Rule = {
    name: "kubeconfig-private",
    description: "Checks whether the K3s admin kubeconfig is written with a mode no wider than 0600.",
    enforcementLevel: "mandatory",
    settings: [],
    checkResource(r) {
        const script = k3sConfig(r);
        if (script === undefined) {
            return [];
        }
        const m = /\nwrite-kubeconfig-mode:\s*"?([0-7]{3,4})"?/.exec(script);
        if (m === null) {
            return []; // K3s's own default is 0600
        }
        const mode = parseInt(m[1], 8);
        return (mode & 0o077) === 0 ? [] : [`K3s kubeconfig of ${r.name} must be readable by its owner only (0600 or narrower); it is ${m[1]}.`];
    },
};

export const hostpathUnderSovereignRoot: Rule = {
    name: "hostpath-under-sovereign-root",
    description: "Checks whether every hostPath volume is a Directory under a sovereign root, mounted read-only unless declared writable.",
    enforcementLevel: "mandatory",
    settings: ["sovereignRoots"],
    checkResource(r, config) {
        const out: string[] = [];
        if (r.type === "kubernetes:core/v1:PersistentVolume") {
            const hp = dig(r.props, "spec", "hostPath");
            const p = dig(hp, "path");
            if (hp !== undefined && !isUnknown(p)) {
                if (typeof p !== "string" || !underRoot(p, config.sovereignRoots)) {
                    out.push(`PersistentVolume ${r.name} must keep its hostPath under ${config.sovereignRoots.join(", ")}; it uses ${JSON.stringify(p)}.`);
                }
                if (dig(hp, "type") !== "Directory") {
                    out.push(`PersistentVolume ${r.name} must use hostPath type Directory; it uses ${JSON.stringify(dig(hp, "type"))}.`);
                }
            }
            return out;
        }
        const pod = podTemplate(r);
        if (pod === undefined) {
            return out;
        }
        const annotations = pod.metadata.annotations;
        const raw = typeof annotations === "object" && annotations !== null ? (annotations as Record<string, unknown>)["sovereign-faas.io/writable-volumes"] : undefined;
        const writable = new Set(typeof raw === "string" ? raw.split(",").map((s) => s.trim()) : []);
        for (const hp of hostPathsOf(pod.spec)) {
            if (isUnknown(hp.path)) {
                continue;
            }
            if (typeof hp.path !== "string" || !underRoot(hp.path, config.sovereignRoots)) {
                out.push(`${r.name} must mount hostPath volumes only from under ${config.sovereignRoots.join(", ")}; volume ${hp.volume} uses ${JSON.stringify(hp.path)}.`);
            }
            if (hp.type !== "Directory") {
                out.push(`${r.name} must use hostPath type Directory for volume ${hp.volume} (so a missing directory fails instead of being created empty); it uses ${JSON.stringify(hp.type ?? "")}.`);
            }
            for (const m of hp.mounts) {
                if (!m.readOnly && !writable.has(hp.volume)) {
                    out.push(`${r.name} must mount volume ${hp.volume} read-only in container ${m.container}, or list it in the pod annotation sovereign-faas.io/writable-volumes.`);
                }
            }
        }
        return out;
    },
};

function requiredAffinity(spec: Record<string, unknown>): Record<string, string[]> {
    const terms = dig(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
    const out: Record<string, string[]> = {};
    if (!Array.isArray(terms) || terms.length !== 1) {
        return out; // several terms are ORed: none of them pins on its own
    }
    const exprs = dig(terms[0], "matchExpressions");
    for (const e of Array.isArray(exprs) ? exprs : []) {
        if (dig(e, "operator") === "In" && Array.isArray(dig(e, "values"))) {
            out[String(dig(e, "key"))] = (dig(e, "values") as unknown[]).map(String);
        }
    }
    return out;
}

export const sovereignWorkloadsPinned: Rule = {
    name: "sovereign-workloads-pinned",
    description: "Checks whether every pod that mounts sovereign data is pinned to nodes of an allowed region and jurisdiction.",
    enforcementLevel: "mandatory",
    settings: ["sovereignRoots", "allowedCountries", "allowedRegions"],
    checkResource(r, config) {
        const pod = podTemplate(r);
        if (pod === undefined) {
            return [];
        }
        const sovereign = hostPathsOf(pod.spec).some((hp) => typeof hp.path === "string" && config.sovereignRoots.some((root) => hp.path === root || (hp.path as string).startsWith(`${root}/`)));
        if (!sovereign) {
            return [];
        }
        const selector = (pod.spec.nodeSelector ?? {}) as Record<string, unknown>;
        const affinity = requiredAffinity(pod.spec);
        const values = (key: string): string[] => (typeof selector[key] === "string" ? [selector[key] as string] : affinity[key] ?? []);
        const regions = values(REGION_LABEL);
        const countries = values(JURISDICTION_LABEL);
        const out: string[] = [];
        if (regions.length === 0 || !regions.every((v) => regionAllowed(v, config.allowedCountries, config.allowedRegions))) {
            out.push(`${r.name} mounts sovereign data and must be pinned (nodeSelector or required node affinity) to ${REGION_LABEL} in ${describeAllowed(config)}; it has ${JSON.stringify(regions)}.`);
        }
        if (countries.length === 0 || !countries.every((v) => config.allowedCountries.includes(v))) {
            out.push(`${r.name} mounts sovereign data and must be pinned to ${JURISDICTION_LABEL} in ${config.allowedCountries.join(", ")}; it has ${JSON.stringify(countries)}.`);
        }
        return out;
    },
};

/** Every value a placement (nodeSelector, or any node affinity term, required or preferred) gives a label. */
function placementValues(spec: unknown, label: string): string[] {
    const out: string[] = [];
    const selector = dig(spec, "nodeSelector");
    if (isObject(selector) && typeof selector[label] === "string") {
        out.push(selector[label] as string);
    }
    const affinity = dig(spec, "affinity", "nodeAffinity");
    const terms = [
        ...((dig(affinity, "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms") as unknown[] | undefined) ?? []),
        ...(((dig(affinity, "preferredDuringSchedulingIgnoredDuringExecution") as unknown[] | undefined) ?? []).map((p) => dig(p, "preference"))),
    ];
    for (const term of Array.isArray(terms) ? terms : []) {
        for (const e of [...((dig(term, "matchExpressions") as unknown[] | undefined) ?? []), ...((dig(term, "matchFields") as unknown[] | undefined) ?? [])]) {
            if (dig(e, "key") === label && ["In", "NotIn"].includes(String(dig(e, "operator"))) && Array.isArray(dig(e, "values"))) {
                if (dig(e, "operator") === "In") {
                    out.push(...(dig(e, "values") as unknown[]).map(String));
                }
            }
        }
    }
    return out;
}

/**
 * Every place in a Helm release's values that schedules pods (`nodeSelector`, `affinity`, at any
 * depth: charts read them at the top and per component), as a spec-like object.
 */
function helmPlacements(values: unknown): Array<{ at: string; spec: Record<string, unknown> }> {
    const out: Array<{ at: string; spec: Record<string, unknown> }> = [];
    let budget = 100_000;
    const seen = new WeakSet<object>();
    const walk = (v: unknown, at: string, depth: number): void => {
        if (--budget < 0 || depth > 64 || !isObject(v) || seen.has(v)) {
            return;
        }
        seen.add(v);
        if (isObject(v.nodeSelector) || isObject(v.affinity)) {
            out.push({ at: at === "" ? "values" : `values.${at}`, spec: v });
        }
        for (const [k, child] of Object.entries(v)) {
            if (k !== "nodeSelector" && k !== "affinity") {
                walk(child, at === "" ? k : `${at}.${k}`, depth + 1);
            }
        }
    };
    walk(values, "", 0);
    return out;
}

export const noPinningAbroad: Rule = {
    name: "no-pinning-abroad",
    description:
        "Checks whether any pod template or Helm release pins workloads (nodeSelector or node affinity) to a region or jurisdiction outside the allowed ones; a workload pinned abroad runs nowhere here, or on a foreign node that joins later.",
    enforcementLevel: "mandatory",
    settings: ["allowedCountries", "allowedRegions"],
    checkResource(r, config) {
        const places: Array<{ at: string; spec: unknown }> = [];
        const pod = podTemplate(r);
        if (pod !== undefined) {
            places.push({ at: "its pod template", spec: pod.spec });
        }
        if (r.type === HELM_RELEASE) {
            places.push(...helmPlacements(r.props.values));
        }
        const out: string[] = [];
        for (const { at, spec } of places) {
            for (const v of placementValues(spec, JURISDICTION_LABEL)) {
                if (!config.allowedCountries.includes(v)) {
                    out.push(`${r.name} must not pin workloads abroad: ${at} asks for ${JURISDICTION_LABEL}=${v}, outside ${config.allowedCountries.join(", ")}.`);
                }
            }
            for (const v of placementValues(spec, REGION_LABEL)) {
                if (!regionAllowed(v, config.allowedCountries, config.allowedRegions)) {
                    out.push(`${r.name} must not pin workloads abroad: ${at} asks for ${REGION_LABEL}=${v}, outside ${describeAllowed(config)}.`);
                }
            }
        }
        return out;
    },
};
