/**
 * The deploy graph's critical path: the longest chain of dependsOn and parent edges from the SSH
 * connection to a function. Every step on it is time a real `pulumi up` waits for.
 */

interface Node {
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    readonly dependsOn: readonly string[];
}

/** Longest chain (by number of custom resources) ending at any function Deployment. */
export function criticalPath(records: readonly Node[], start = "host-probe"): { length: number; chain: string[] } {
    const byName = new Map(records.map((r) => [r.name, r]));
    const memo = new Map<string, string[] | null>();
    // Components wait for nothing themselves: a dependency on a component is a dependency on its children.
    const children = new Map<string, string[]>();
    for (const r of records) {
        if (r.parent) {
            children.set(r.parent, [...(children.get(r.parent) ?? []), r.name]);
        }
    }
    const isComponent = (name: string): boolean => (byName.get(name)?.type ?? "").startsWith("sovereign-faas:");
    const expand = (name: string): string[] => (isComponent(name) ? (children.get(name) ?? []).flatMap(expand) : [name]);
    const longest = (name: string): string[] | null => {
        if (memo.has(name)) {
            return memo.get(name) as string[] | null;
        }
        memo.set(name, null); // cycle guard
        if (name === start) {
            memo.set(name, [start]);
            return [start];
        }
        const node = byName.get(name);
        let best: string[] | null = null;
        for (const dep of (node?.dependsOn ?? []).flatMap(expand)) {
            const p = longest(dep);
            if (p !== null && (best === null || p.length > best.length)) {
                best = p;
            }
        }
        const result = best === null ? null : [...best, name];
        memo.set(name, result);
        return result;
    };
    let best: string[] = [];
    for (const r of records.filter((x) => x.type === "kubernetes:apps/v1:Deployment")) {
        const p = longest(r.name);
        if (p !== null && p.length > best.length) {
            best = p;
        }
    }
    return { length: best.length, chain: best };
}
