/**
 * Pinning abroad (issue 13, item 4): `openfaas.helmValues` placement overrides and stack.yml
 * `constraints` are refused before anything exists, and the pack's `no-pinning-abroad` rule judges
 * every pod template and Helm release that reaches it by another route (a library user's own
 * objects, or values the program never saw).
 */
import * as pulumi from "@pulumi/pulumi";

import { locationConstraintProblems, parseStackYml, PLACEMENT_KEYS, placementOverrides, validateOpenFaasArgs, ValidationError } from "../../components";
import { DEFAULT_CONFIG, evaluateRules, noPinningAbroad, ResourceView } from "../../policies/rules";
import { parseStackConfig, RawConfig } from "../../program/config";
import { MINIMAL_CONFIG } from "../helpers/config";

const REGION = "topology.kubernetes.io/region";
const JURISDICTION = "sovereign-faas.io/jurisdiction";
const location = { country: "NO", region: "NO-03" };

const base: RawConfig = MINIMAL_CONFIG;

function configProblems(raw: RawConfig): Array<{ key: string; rule: string }> {
    try {
        parseStackConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).problems.map((p) => ({ key: p.key, rule: p.rule }));
    }
    return [];
}

beforeAll(async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
});

describe("helmValues may not say where OpenFaaS pods run", () => {
    const overrides: Array<[string, Record<string, unknown>]> = [];
    for (const key of PLACEMENT_KEYS) {
        overrides.push([`top-level ${key}`, { [key]: {} }]);
        for (const component of ["gateway", "queueWorker", "nats", "prometheus", "alertmanager", "faasnetes", "operator", "autoscaler", "dashboard"]) {
            overrides.push([`${component}.${key}`, { [component]: { [key]: { [REGION]: "DE-HE" } } }]);
        }
    }
    overrides.push(["deep nesting", { a: { b: { c: { d: { nodeSelector: { x: "y" } } } } } }]);
    overrides.push(["an empty list of tolerations", { tolerations: [] }]);
    overrides.push(["a null affinity", { gateway: { affinity: null } }]);

    it.each(overrides)("the component refuses %s", (_, values) => {
        const p = validateOpenFaasArgs({ helmValues: values }).items;
        expect(p.length).toBeGreaterThan(0);
        expect(p[0].key).toMatch(/^helmValues\./);
        expect(p[0].rule).toMatch(/sets where OpenFaaS pods run/);
    });

    it.each(overrides.slice(0, 12))("the program refuses %s under openfaas.helmValues", (_, values) => {
        const p = configProblems({ ...base, openfaas: JSON.stringify({ helmValues: values }) });
        expect(p.some((x) => x.key.startsWith("sovereign-faas:openfaas.helmValues.") && /where OpenFaaS pods run/.test(x.rule))).toBe(true);
    });

    it("names every override at once", () => {
        const paths = placementOverrides({ nodeSelector: {}, gateway: { affinity: {}, tolerations: [] }, nats: { topologySpreadConstraints: [] } }, "helmValues");
        expect(paths.sort()).toEqual(["helmValues.gateway.affinity", "helmValues.gateway.tolerations", "helmValues.nats.topologySpreadConstraints", "helmValues.nodeSelector"]);
    });

    it.each([{ gateway: { replicas: 2 } }, { nodeSelectorTerms: 1 }, { gateway: { nodeselector: "x" } }, {}])("accepts values that place nothing: %j", (values) => {
        // `nodeselector` (lower case) is no key the chart reads; unknown-path warnings cover typos.
        expect(validateOpenFaasArgs({ helmValues: values }).items).toEqual([]);
    });

    it("never shows the value it refuses", () => {
        const p = validateOpenFaasArgs({ helmValues: { gateway: { nodeSelector: { secret: "hunter2" } } } }).items;
        expect(JSON.stringify(p)).not.toContain("hunter2");
    });

    it("survives a cyclic or huge value", () => {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        expect(() => placementOverrides(cyclic)).not.toThrow();
        const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, { v: i }]));
        expect(() => placementOverrides(wide)).not.toThrow();
    });
});

describe("stack.yml constraints may not pin a function elsewhere", () => {
    const stack = (constraints: string[]) =>
        parseStackYml(`version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  f:\n    image: ghcr.io/x/f:1\n    constraints:\n${constraints.map((c) => `      - ${JSON.stringify(c)}`).join("\n")}\n`, {
            file: "stack.yml",
            env: {},
            readFile: () => undefined,
        }).functions;

    it.each([
        [`${REGION} == DE-HE`],
        [`${REGION}==SE-AB`],
        [`${REGION} ==  NO-46`],
        [`${JURISDICTION} == DE`],
        [`${JURISDICTION}==US`],
        [`${JURISDICTION} == no`],
    ])("refuses %s", (c) => {
        const p = locationConstraintProblems(stack([c]), location, "stack.yml").items;
        expect(p).toHaveLength(1);
        expect(p[0].key).toBe("stack.yml: functions.f.constraints");
        expect(p[0].rule).toMatch(/pins the function to/);
    });

    it.each([[`${REGION} == NO-03`], [`${JURISDICTION} == NO`], ["disktype == ssd"], ["kubernetes.io/arch == arm64"]])("accepts %s", (c) => {
        expect(locationConstraintProblems(stack([c]), location, "stack.yml").items).toEqual([]);
    });

    it("the program refuses the pinned function and names the file", () => {
        const p = configProblems({ ...base, functions: "tests/fixtures/pinned-stack.yml" });
        expect(p.filter((x) => /pins the function/.test(x.rule))).toEqual([{ key: "tests/fixtures/pinned-stack.yml: functions.abroad.constraints", rule: expect.stringContaining("DE-HE") }]);
    });
});

describe("no-pinning-abroad judges every pod template and Helm release", () => {
    const deployment = (spec: Record<string, unknown>, type = "kubernetes:apps/v1:Deployment"): ResourceView => ({
        type,
        name: "w",
        props: type === "kubernetes:core/v1:Pod" ? { spec } : type === "kubernetes:batch/v1:CronJob" ? { spec: { jobTemplate: { spec: { template: { spec } } } } } : { spec: { template: { spec } } },
    });
    const required = (key: string, operator: string, values: string[]) => ({
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator, values }] }] } } },
    });
    const preferred = (key: string, values: string[]) => ({
        affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key, operator: "In", values }] } }] } },
    });
    const judge = (r: ResourceView) => noPinningAbroad.checkResource!(r, DEFAULT_CONFIG);

    const abroad: Array<[string, Record<string, unknown>]> = [
        ["nodeSelector region", { nodeSelector: { [REGION]: "DE-HE" } }],
        ["nodeSelector jurisdiction", { nodeSelector: { [JURISDICTION]: "SE" } }],
        ["required affinity In", required(REGION, "In", ["NO-03", "DE-HE"])],
        ["required affinity on jurisdiction", required(JURISDICTION, "In", ["US"])],
        ["preferred affinity", preferred(REGION, ["FI-18"])],
        ["matchFields", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: REGION, operator: "In", values: ["DE-BE"] }] }] } } } }],
    ];
    const kinds = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:core/v1:Pod"];

    for (const kind of kinds) {
        it.each(abroad)(`flags a ${kind.split(":").pop()} with %s`, (_, spec) => {
            const out = judge(deployment(spec, kind));
            expect(out.length).toBeGreaterThan(0);
            expect(out[0]).toMatch(/must not pin workloads abroad/);
        });
    }

    it.each([
        ["home region", { nodeSelector: { [REGION]: "NO-03" } }],
        ["NotIn abroad", required(REGION, "NotIn", ["DE-HE"])],
        ["another label", { nodeSelector: { disktype: "ssd" } }],
        ["nothing", {}],
    ])("passes %s", (_, spec) => {
        expect(judge(deployment(spec))).toEqual([]);
    });

    it.each([
        ["top level", { nodeSelector: { [REGION]: "DE-HE" } }],
        ["per component", { gateway: { nodeSelector: { [JURISDICTION]: "DE" } } }],
        ["deep", { a: { b: { affinity: required(REGION, "In", ["SE-AB"]).affinity } } }],
    ])("flags a Helm release whose values pin %s", (_, values) => {
        const out = judge({ type: "kubernetes:helm.sh/v3:Release", name: "rel", props: { values } });
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(/^rel must not pin workloads abroad: values/);
    });

    it("a region in an allowed country passes when allowedRegions is empty, and fails when it lists others", () => {
        const r = deployment({ nodeSelector: { [REGION]: "NO-46" } });
        expect(noPinningAbroad.checkResource!(r, DEFAULT_CONFIG)).toEqual([]);
        expect(noPinningAbroad.checkResource!(r, { ...DEFAULT_CONFIG, allowedRegions: ["NO-03"] })).toHaveLength(1);
    });

    it("is mandatory, and evaluateRules reports it", () => {
        const results = evaluateRules([noPinningAbroad], [deployment({ nodeSelector: { [REGION]: "DE-HE" } })]);
        expect(results).toEqual([expect.objectContaining({ policy: "no-pinning-abroad", enforcementLevel: "mandatory" })]);
    });
});
