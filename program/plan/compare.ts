/**
 * What `pulumi up` would do to a stack planned at one version when it is planned at the next:
 * each resource is the same, updated in place, replaced, created or deleted. Decided from two
 * offline plans the way the engine decides (pkg/resource/deploy/step_generator.go): resources
 * are matched by URN or alias (a parent's aliases are inherited by its children), `ignoreChanges`
 * paths keep their old values, a changed path that matches `replaceOnChanges` replaces, and so do
 * the changes the providers used here are known to treat as replacements.
 *
 * Values unknown while the engine previews are modelled where a provider decides on them: an
 * input that comes from a resource being created, updated or replaced is unknown, and a
 * Kubernetes provider whose kubeconfig is unknown plans a replacement unless its
 * clusterIdentifier is set and unchanged; a replaced provider replaces every resource it manages.
 *
 * What this cannot see: replacements a provider decides at run time from live state (for
 * example an immutable field the API server refuses to patch). The real engine tier
 * (`npm run test:engine`) sees those.
 */
import { ResourceRecord } from "./recorder";

export type Change = "same" | "update" | "replace" | "create" | "delete";

export interface ResourceChange {
    readonly urn: string;
    /** The URN in the old plan when matched through an alias. */
    readonly oldUrn?: string;
    readonly type: string;
    readonly name: string;
    readonly change: Change;
    /** Property paths that differ (after ignoreChanges). */
    readonly paths: string[];
    /** Why it is a replacement. */
    readonly reason?: string;
    /** The resource's delete runs something on the host or removes data (see `destructiveDelete`). */
    readonly destructive: boolean;
}

type Record_ = Pick<ResourceRecord, "type" | "name" | "urn" | "inputs" | "options" | "parent"> & Partial<Pick<ResourceRecord, "inputDependencies">>;

/**
 * Whether deleting the resource does harm: a remote command with a `delete` script runs it on
 * the host; deleting a Namespace deletes everything in it; a PersistentVolume holds data.
 */
export function destructiveDelete(r: Pick<ResourceRecord, "type" | "inputs">): boolean {
    if (r.type === "command:remote:Command" || r.type === "command:local:Command") {
        return typeof r.inputs.delete === "string" && r.inputs.delete.trim() !== "";
    }
    return ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:PersistentVolumeClaim"].includes(r.type);
}

/**
 * Input changes the providers themselves turn into replacements (their Diff answers
 * "replace"): a Kubernetes object's name or namespace, a workload's selector, and any input of the
 * bridged random and tls resources (all their inputs are ForceNew in the Terraform providers).
 */
export function providerReplaces(type: string, path: string): boolean {
    if (type.startsWith("kubernetes:") && !type.startsWith("kubernetes:helm.sh/")) {
        if (/^metadata\.(name|namespace)$/.test(path)) {
            return true;
        }
        if (/^kubernetes:apps\/v1:(Deployment|StatefulSet|DaemonSet)$/.test(type) && path.startsWith("spec.selector")) {
            return true;
        }
        if (type === "kubernetes:core/v1:Secret" && path === "type") {
            return true;
        }
    }
    if (type.startsWith("kubernetes:helm.sh/") && /^(name|namespace|chart)$/.test(path)) {
        return true;
    }
    if (type.startsWith("random:") || type.startsWith("tls:")) {
        return true;
    }
    return false;
}

function isObj(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every leaf path where two values differ, e.g. `triggers[0]`, `spec.template.spec.containers[0].image`. */
export function diffPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (Array.isArray(a) && Array.isArray(b)) {
        const out: string[] = [];
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
            out.push(...diffPaths(a[i], b[i], `${prefix}[${i}]`));
        }
        return out;
    }
    if (isObj(a) && isObj(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap((k) => diffPaths(a[k], b[k], prefix === "" ? k : `${prefix}.${k}`));
    }
    if (JSON.stringify(a) === JSON.stringify(b)) {
        return [];
    }
    // A container on one side and nothing on the other: every leaf of the container changed.
    // (An empty container against nothing is still a change, of the container itself.)
    const leaves =
        a === undefined && (isObj(b) || Array.isArray(b))
            ? diffPaths(Array.isArray(b) ? [] : {}, b, prefix)
            : b === undefined && (isObj(a) || Array.isArray(a))
              ? diffPaths(a, Array.isArray(a) ? [] : {}, prefix)
              : [];
    return leaves.length > 0 ? leaves : [prefix];
}

/** Splits `a.b[0].c` or `a["b.c"]` into segments (Pulumi property paths). */
export function pathSegments(path: string): string[] {
    const out: string[] = [];
    const re = /([^.[\]]+)|\[(\*|\d+)\]|\["([^"]*)"\]/g;
    for (const m of path.matchAll(re)) {
        out.push(m[1] ?? m[2] ?? m[3]);
    }
    return out;
}

/** Whether a changed path falls under a property-path pattern (`triggers[*]`, `spec.*`, `data`). */
export function pathMatches(changed: string, pattern: string): boolean {
    const c = pathSegments(changed);
    const p = pathSegments(pattern);
    if (p.length > c.length) {
        return false;
    }
    return p.every((seg, i) => seg === "*" || seg === c[i]);
}

/** Applies `ignoreChanges` as the engine does: each ignored path keeps its old value (or stays absent). */
export function applyIgnoreChanges(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
    const out = JSON.parse(JSON.stringify(newInputs)) as Record<string, unknown>;
    for (const pattern of ignore) {
        const segs = pathSegments(pattern);
        const copy = (o: unknown, n: unknown, i: number): unknown => {
            if (i === segs.length) {
                return o === undefined ? undefined : JSON.parse(JSON.stringify(o));
            }
            const seg = segs[i];
            if (seg === "*") {
                if (Array.isArray(n)) {
                    return n.map((x, j) => copy(Array.isArray(o) ? o[j] : undefined, x, i + 1));
                }
                if (isObj(n)) {
                    return Object.fromEntries(Object.entries(n).map(([k, x]) => [k, copy(isObj(o) ? o[k] : undefined, x, i + 1)]));
                }
                return n;
            }
            const container: Record<string, unknown> | unknown[] = Array.isArray(n) ? [...n] : isObj(n) ? { ...n } : /^\d+$/.test(seg) ? [] : {};
            const oldChild = Array.isArray(o) || isObj(o) ? (o as Record<string, unknown>)[seg] : undefined;
            const value = copy(oldChild, (container as Record<string, unknown>)[seg], i + 1);
            if (value === undefined) {
                if (Array.isArray(container)) {
                    container.splice(Number(seg), 1);
                } else {
                    delete container[seg];
                }
            } else {
                (container as Record<string, unknown>)[seg] = value;
            }
            return container;
        };
        const result = copy(oldInputs, out, 0) as Record<string, unknown>;
        for (const k of Object.keys(out)) {
            delete out[k];
        }
        Object.assign(out, result);
    }
    return out;
}

function splitUrn(urn: string): { prefix: string; qualifiedType: string; name: string } {
    const parts = urn.split("::");
    return { prefix: `${parts[0]}::${parts[1]}`, qualifiedType: parts[2], name: parts.slice(3).join("::") };
}

/**
 * Every URN the engine would look for a resource's old state under: its own, its explicit
 * aliases, and, for each URN its parent may have had, the same type and name under that parent
 * (aliases of a parent apply to its children).
 */
export function candidateUrns(r: Record_, byName: ReadonlyMap<string, Record_>, memo = new Map<string, string[]>()): string[] {
    const hit = memo.get(r.urn);
    if (hit !== undefined) {
        return hit;
    }
    const own = [r.urn, ...r.options.aliases];
    const parent = r.parent === null ? undefined : byName.get(r.parent);
    const inherited: string[] = [];
    if (parent !== undefined) {
        const { prefix, name } = splitUrn(r.urn);
        for (const parentUrn of candidateUrns(parent, byName, memo)) {
            if (parentUrn === parent.urn) {
                continue;
            }
            const pq = splitUrn(parentUrn).qualifiedType;
            const qualified = pq === "pulumi:pulumi:Stack" ? r.type : `${pq}$${r.type}`;
            inherited.push(`${prefix}::${qualified}::${name}`);
        }
    }
    const all = [...new Set([...own, ...inherited])];
    memo.set(r.urn, all);
    return all;
}

/**
 * Provider inputs on which an unknown value makes the provider plan its own replacement, and the
 * input that, set and unchanged, prevents it. pulumi-kubernetes DiffConfig
 * (provider/pkg/provider/provider.go): "We can't tell for sure if a computed value has changed,
 * so we make the conservative choice and force a replacement" for kubeconfig, context and
 * cluster; "we ignore replacements when the identifier is unchanged" (clusterIdentifier). Adding
 * the identifier does not count as unchanged.
 */
export const PROVIDER_REPLACES_ON_UNKNOWN: Readonly<Record<string, { readonly inputs: readonly string[]; readonly identity: string }>> = {
    "pulumi:providers:kubernetes": { inputs: ["kubeconfig", "context", "cluster"], identity: "clusterIdentifier" },
};

/** Whether a change recomputes the resource's outputs (they are unknown while the engine previews). */
const recomputes = (c: Change | undefined): boolean => c === "create" || c === "update" || c === "replace";

type MutableChange = { -readonly [K in keyof ResourceChange]: ResourceChange[K] };

/**
 * The preview's unknowns: providers that replace on an unknown input, then everything a replaced
 * provider manages, until nothing changes.
 */
function applyPreviewUnknowns(changes: MutableChange[], after: readonly Record_[], before: ReadonlyMap<string, Record_>): void {
    const byName = new Map(after.map((r) => [r.name, r]));
    const changeOf = (name: string): MutableChange | undefined => changes.find((c) => c.name === name && c.change !== "delete");
    for (let again = true; again; ) {
        again = false;
        for (const c of changes) {
            const r = byName.get(c.name);
            if (r === undefined || c.change === "replace" || c.change === "create" || c.change === "delete") {
                continue;
            }
            const rule = PROVIDER_REPLACES_ON_UNKNOWN[r.type];
            if (rule !== undefined) {
                for (const input of rule.inputs) {
                    const from = (r.inputDependencies?.[input] ?? []).find((d) => recomputes(changeOf(d)?.change));
                    if (from === undefined) {
                        continue;
                    }
                    const prev = before.get(c.oldUrn ?? c.urn);
                    const oldId = prev?.inputs[rule.identity];
                    const newId = r.inputs[rule.identity];
                    if (oldId !== undefined && JSON.stringify(oldId) === JSON.stringify(newId) && newId !== "[unknown]") {
                        if (c.change === "same") {
                            c.change = "update";
                            c.paths = [input];
                            again = true;
                        }
                        continue;
                    }
                    c.change = "replace";
                    c.reason = `${input} comes from ${from}, which is ${changeOf(from)?.change}d, so it is unknown while the engine previews; the provider replaces on an unknown ${input} unless ${rule.identity} is set and unchanged (${oldId === undefined ? "the old state has none" : "it changed"})`;
                    again = true;
                    break;
                }
                if (c.change === "replace") {
                    continue;
                }
            }
            const provider = r.options.provider;
            if (provider !== null && changeOf(provider)?.change === "replace") {
                c.change = "replace";
                c.reason = `its provider ${provider} is replaced`;
                again = true;
            }
        }
    }
}

/** Compares two plans of the same stack: what the engine would do going from `before` to `after`. */
export function comparePlans(before: readonly Record_[], after: readonly Record_[]): ResourceChange[] {
    const old = new Map(before.map((r) => [r.urn, r]));
    const claimed = new Set<string>();
    const byName = new Map(after.map((r) => [r.name, r]));
    const memo = new Map<string, string[]>();
    const changes: MutableChange[] = [];
    for (const r of after) {
        const match = candidateUrns(r, byName, memo).find((u) => old.has(u) && !claimed.has(u));
        if (match === undefined) {
            changes.push({ urn: r.urn, type: r.type, name: r.name, change: "create", paths: [], destructive: destructiveDelete(r) });
            continue;
        }
        claimed.add(match);
        const prev = old.get(match) as Record_;
        const effective = applyIgnoreChanges(prev.inputs, r.inputs, r.options.ignoreChanges);
        const paths = diffPaths(prev.inputs, effective);
        const byOption = paths.find((p) => r.options.replaceOnChanges.some((pattern) => pathMatches(p, pattern)));
        const byProvider = paths.find((p) => providerReplaces(r.type, p));
        const typeChanged = prev.type !== r.type;
        const change: Change = paths.length === 0 && !typeChanged ? "same" : byOption !== undefined || byProvider !== undefined || typeChanged ? "replace" : "update";
        const reason =
            change !== "replace"
                ? undefined
                : typeChanged
                  ? `type changed from ${prev.type}`
                  : byOption !== undefined
                    ? `${byOption} changed and replaceOnChanges has ${r.options.replaceOnChanges.join(", ")}`
                    : `the provider replaces on a change of ${byProvider}`;
        changes.push({
            urn: r.urn,
            ...(match !== r.urn ? { oldUrn: match } : {}),
            type: r.type,
            name: r.name,
            change,
            paths,
            ...(reason !== undefined ? { reason } : {}),
            destructive: destructiveDelete(prev),
        });
    }
    for (const r of before) {
        if (!claimed.has(r.urn)) {
            changes.push({ urn: r.urn, type: r.type, name: r.name, change: "delete", paths: [], destructive: destructiveDelete(r) });
        }
    }
    applyPreviewUnknowns(changes, after, old);
    return changes;
}

/** The changes that would run a destructive delete: a destructive resource replaced or deleted. */
export function destructiveChanges(changes: readonly ResourceChange[]): ResourceChange[] {
    return changes.filter((c) => c.destructive && (c.change === "replace" || c.change === "delete"));
}
