import { applyIgnoreChanges, candidateUrns, comparePlans, destructiveChanges, diffPaths, pathMatches } from "../../program/plan/compare";
import { ResourceOptionsRecord } from "../../program/plan/recorder";

const NO_OPTIONS: ResourceOptionsRecord = {
    additionalSecretOutputs: [],
    aliases: [],
    deleteBeforeReplace: false,
    ignoreChanges: [],
    protect: false,
    provider: null,
    replaceOnChanges: [],
    retainOnDelete: false,
};
const P = "urn:pulumi:s::p";

function cmd(name: string, inputs: Record<string, unknown>, options: Partial<ResourceOptionsRecord> = {}, parent: { name: string; type: string } | null = { name: "k3s", type: "sovereign-faas:k3s:K3sCluster" }) {
    const qualified = parent === null ? "command:remote:Command" : `${parent.type}$command:remote:Command`;
    return {
        type: "command:remote:Command",
        name,
        parent: parent?.name ?? null,
        urn: `${P}::${qualified}::${name}`,
        inputs,
        options: { ...NO_OPTIONS, replaceOnChanges: ["triggers[*]"], ...options },
    };
}
const component = (name: string, type: string, options: Partial<ResourceOptionsRecord> = {}, parentUrnType?: string) => ({
    type,
    name,
    parent: parentUrnType === undefined ? null : "platform",
    urn: `${P}::${parentUrnType === undefined ? type : `${parentUrnType}$${type}`}::${name}`,
    inputs: {},
    options: { ...NO_OPTIONS, ...options },
});

describe("diffPaths and property paths", () => {
    it("lists every differing leaf", () => {
        expect(diffPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] }, d: "x" })).toEqual(["b.c[1]", "d"]);
        expect(diffPaths({ triggers: ["h1"] }, {})).toEqual(["triggers[0]"]);
        expect(diffPaths({ t: [] }, {})).toEqual(["t"]);
        expect(diffPaths({ x: 1 }, { x: 1 })).toEqual([]);
    });

    it("matches Pulumi property-path patterns", () => {
        expect(pathMatches("triggers[0]", "triggers[*]")).toBe(true);
        expect(pathMatches("triggers", "triggers[*]")).toBe(false);
        expect(pathMatches("spec.template.spec", "spec")).toBe(true);
        expect(pathMatches("create", "triggers[*]")).toBe(false);
        expect(pathMatches('metadata.labels["a.b/c"]', "metadata.labels")).toBe(true);
    });

    it("keeps old values at ignored paths, and absent stays absent", () => {
        expect(applyIgnoreChanges({ triggers: ["old"], create: "a" }, { create: "b" }, ["triggers"])).toEqual({ triggers: ["old"], create: "b" });
        expect(applyIgnoreChanges({ create: "a" }, { triggers: ["new"], create: "b" }, ["triggers"])).toEqual({ create: "b" });
        expect(applyIgnoreChanges({ spec: { replicas: 3, x: 1 } }, { spec: { replicas: 1, x: 2 } }, ["spec.replicas"])).toEqual({ spec: { replicas: 3, x: 2 } });
    });
});

describe("comparePlans: what the engine would do", () => {
    it("replaces a remote command whose trigger changed, and flags its destructive delete", () => {
        const before = [cmd("k3s-install", { create: "v1", triggers: ["h1"], delete: "k3s-uninstall.sh" })];
        const after = [cmd("k3s-install", { create: "v2", triggers: ["h2"], delete: "k3s-uninstall.sh" })];
        const changes = comparePlans(before, after);
        expect(changes).toEqual([expect.objectContaining({ name: "k3s-install", change: "replace", destructive: true, paths: ["create", "triggers[0]"] })]);
        expect(destructiveChanges(changes).map((c) => c.name)).toEqual(["k3s-install"]);
    });

    it("updates in place when only the script changes, and ignoring triggers makes their removal no change", () => {
        const before = [cmd("k3s-install", { create: "v1", triggers: ["h1"], delete: "x" })];
        const after = [cmd("k3s-install", { create: "v2", delete: "x" }, { ignoreChanges: ["triggers"] })];
        expect(comparePlans(before, after)).toEqual([expect.objectContaining({ change: "update", paths: ["create"] })]);
        const removedOnly = comparePlans(before, [cmd("k3s-install", { create: "v1", delete: "x" })]);
        expect(removedOnly[0]).toEqual(expect.objectContaining({ change: "replace", paths: ["triggers[0]"] }));
    });

    it("sees a moved resource as delete plus create, unless an alias or a parent's alias names the old URN", () => {
        const before = [component("k3s", "sovereign-faas:k3s:K3sCluster"), cmd("k3s-install", { create: "v", delete: "x" })];
        const moved = [
            component("platform", "sovereign-faas:index:SovereignFaasPlatform"),
            { ...component("k3s", "sovereign-faas:k3s:K3sCluster", {}, "sovereign-faas:index:SovereignFaasPlatform") },
            cmd("k3s-install", { create: "v", delete: "x" }, {}, { name: "k3s", type: "sovereign-faas:index:SovereignFaasPlatform$sovereign-faas:k3s:K3sCluster" }),
        ];
        const unaliased = comparePlans(before, moved);
        expect(unaliased.filter((c) => c.change === "delete").map((c) => c.name).sort()).toEqual(["k3s", "k3s-install"]);
        expect(destructiveChanges(unaliased).map((c) => c.name)).toEqual(["k3s-install"]);

        const aliased = moved.map((r) => (r.name === "k3s" ? { ...r, options: { ...r.options, aliases: [`${P}::sovereign-faas:k3s:K3sCluster::k3s`] } } : r));
        const byName = new Map(aliased.map((r) => [r.name, r]));
        expect(candidateUrns(aliased[2], byName)).toContain(`${P}::sovereign-faas:k3s:K3sCluster$command:remote:Command::k3s-install`);
        const changes = comparePlans(before, aliased);
        expect(changes.map((c) => [c.name, c.change])).toEqual([
            ["platform", "create"],
            ["k3s", "same"],
            ["k3s-install", "same"],
        ]);
    });

    it("knows the replacements the providers decide: a Kubernetes object's name, random and tls inputs", () => {
        const ns = (name: string) => ({ type: "kubernetes:core/v1:Namespace", name: "ns", parent: null, urn: `${P}::kubernetes:core/v1:Namespace::ns`, inputs: { metadata: { name } }, options: NO_OPTIONS });
        expect(comparePlans([ns("a")], [ns("b")])[0]).toEqual(expect.objectContaining({ change: "replace", destructive: true, reason: "the provider replaces on a change of metadata.name" }));
        const pw = (length: number) => ({ type: "random:index/randomPassword:RandomPassword", name: "pw", parent: null, urn: `${P}::random:index/randomPassword:RandomPassword::pw`, inputs: { length }, options: NO_OPTIONS });
        expect(comparePlans([pw(32)], [pw(40)])[0].change).toBe("replace");
    });

    it("sees what a preview does with an unknown kubeconfig: the provider, and everything it manages, replaced unless clusterIdentifier is unchanged", () => {
        const provider = (inputs: Record<string, unknown>) => ({
            type: "pulumi:providers:kubernetes",
            name: "k3s-provider",
            parent: null,
            urn: `${P}::pulumi:providers:kubernetes::k3s-provider`,
            inputs: { kubeconfig: "[secret]", ...inputs },
            inputDependencies: { kubeconfig: ["k3s-kubeconfig"] },
            options: NO_OPTIONS,
        });
        const ns = { type: "kubernetes:core/v1:Namespace", name: "openfaas-ns", parent: null, urn: `${P}::kubernetes:core/v1:Namespace::openfaas-ns`, inputs: { metadata: { name: "openfaas" } }, options: { ...NO_OPTIONS, provider: "k3s-provider" } };
        const fetch = (create: string, options: Partial<ResourceOptionsRecord> = {}) => cmd("k3s-kubeconfig", { create }, options, null);

        // The kubeconfig step re-runs: its stdout is unknown, the provider replaces, the namespace with it.
        const rerun = comparePlans([fetch("v1"), provider({}), ns], [fetch("v2"), provider({}), ns]);
        expect(rerun.map((c) => [c.name, c.change])).toEqual([
            ["k3s-kubeconfig", "update"],
            ["k3s-provider", "replace"],
            ["openfaas-ns", "replace"],
        ]);
        expect(rerun[1].reason).toMatch(/kubeconfig comes from k3s-kubeconfig, which is updated.*clusterIdentifier.*the old state has none/);
        expect(destructiveChanges(rerun).map((c) => c.name)).toEqual(["openfaas-ns"]);

        // Adding clusterIdentifier in the same step is not enough (the engine compares it with the old state).
        const adding = comparePlans([fetch("v1"), provider({}), ns], [fetch("v2"), provider({ clusterIdentifier: "k3s@h" }), ns]);
        expect(adding.find((c) => c.name === "openfaas-ns")?.change).toBe("replace");

        // An unchanged identifier makes it an update; the namespace stays.
        const kept = comparePlans([fetch("v1"), provider({ clusterIdentifier: "k3s@h" }), ns], [fetch("v2"), provider({ clusterIdentifier: "k3s@h" }), ns]);
        expect(kept.map((c) => [c.name, c.change])).toEqual([
            ["k3s-kubeconfig", "update"],
            ["k3s-provider", "update"],
            ["openfaas-ns", "same"],
        ]);

        // The step's script changes, but ignoreChanges keeps the old one: nothing is unknown.
        const ignored = comparePlans([fetch("v1"), provider({}), ns], [fetch("v2", { ignoreChanges: ["create"] }), provider({ clusterIdentifier: "k3s@h" }), ns]);
        expect(ignored.map((c) => [c.name, c.change])).toEqual([
            ["k3s-kubeconfig", "same"],
            ["k3s-provider", "update"],
            ["openfaas-ns", "same"],
        ]);
    });
});
