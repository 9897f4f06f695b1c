/**
 * Run-time egress control and registry evidence (issue 15): the NetworkPolicies the components
 * render, the rules that judge any stack's policies, and the registry lookups. Real registry
 * blocks below are rows of the pinned dataset itself (@ip-location-db/asn-country 2.3.2026061719).
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import {
    EGRESS_EXCEPTIONS as LIBRARY_EXCEPTIONS,
    egressDestinationProblems,
    parseEgressAnnotation,
    renderCoreNetworkPolicies,
    renderEdgeNetworkPolicies,
    renderFunctionNetworkPolicies,
    validatePlatformArgs,
    ValidationError,
} from "../../components";
import {
    addressesRegisteredHere,
    DATASET_LABEL,
    DEFAULT_CONFIG,
    EGRESS_EXCEPTIONS,
    egressDefaultDeny,
    evaluateRules,
    foreignStretches,
    noForeignDataEndpoints,
    registryEvidence,
    ResourceView,
} from "../../policies/rules";
import { parseStackConfig, RawConfig } from "../../program/config";
import { planStack } from "../helpers/plan";
import { MINIMAL_CONFIG } from "../helpers/config";

const location = { country: "NO", region: "NO-03" };
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const asView = (p: Record<string, unknown>): ResourceView => ({ type: NP, name: String((p.metadata as { name: string }).name), props: p });

describe("the function namespace's policies", () => {
    const policies = renderFunctionNetworkPolicies({
        location,
        functionEgress: { payments: [{ cidr: "198.51.100.0/24", ports: [443] }] },
        globalEgress: [{ cidr: "203.0.113.0/24", ports: [443], protocol: "TCP" }],
    });
    const byName = Object.fromEntries(policies.map((p) => [(p.metadata as { name: string }).name, p]));

    it("are exactly these, in openfaas-fn", () => {
        expect(Object.keys(byName)).toEqual(["default-deny", "allow-dns", "functions-from-gateway", "functions-to-gateway", "declared-egress", "function-payments-egress"]);
        expect(policies.every((p) => (p.metadata as { namespace: string }).namespace === "openfaas-fn")).toBe(true);
    });

    it("deny everything by default", () => {
        expect(byName["default-deny"].spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("allow DNS to CoreDNS only", () => {
        expect(byName["allow-dns"].spec).toEqual({
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
            ],
        });
    });

    it("let only the gateway and the queue-workers in, on 8080", () => {
        expect(byName["functions-from-gateway"].spec).toEqual({
            podSelector: { matchExpressions: [{ key: "faas_function", operator: "Exists" }] },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "openfaas" } }, podSelector: { matchLabels: { app: "gateway" } } },
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "openfaas" } }, podSelector: { matchLabels: { app: "queue-worker" } } },
                    ],
                    ports: [{ protocol: "TCP", port: 8080 }],
                },
            ],
        });
    });

    it("give one function what it declares, and every function the global destinations", () => {
        expect(byName["function-payments-egress"].spec).toEqual({
            podSelector: { matchLabels: { faas_function: "payments" } },
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "198.51.100.0/24" } }], ports: [{ protocol: "TCP", port: 443 }] }],
        });
        expect((byName["declared-egress"].spec as { egress: unknown }).egress).toEqual([{ to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
    });

    it("carry the reason and the jurisdiction labels", () => {
        for (const p of policies) {
            const meta = p.metadata as { labels: Record<string, string>; annotations: Record<string, string> };
            expect(meta.labels["sovereign-faas.io/jurisdiction"]).toBe("NO");
            expect(meta.annotations["sovereign-faas.io/why"].length).toBeGreaterThan(20);
        }
    });

    it("pass the pack: default deny, nothing open to everything", () => {
        const deployment: ResourceView = { type: "kubernetes:apps/v1:Deployment", name: "fn", props: { metadata: { namespace: "openfaas-fn" }, spec: { template: { spec: { containers: [] } } } } };
        expect(evaluateRules([egressDefaultDeny, addressesRegisteredHere], [deployment, ...policies.map(asView)])).toEqual([]);
    });
});

describe("the core and edge namespaces' policies", () => {
    const ce = renderCoreNetworkPolicies({ location, edition: "ce", nodeAddress: "192.0.2.10", connector: true, callbackEgress: [], acme: false, edgeNamespace: "nginx-ingress" });
    const pro = renderCoreNetworkPolicies({ location, edition: "pro", nodeAddress: "192.0.2.10", connector: false, callbackEgress: [], acme: true, edgeNamespace: "nginx-ingress" });
    const names = (ps: Record<string, unknown>[]) => ps.map((p) => (p.metadata as { name: string }).name);

    it("give each OpenFaaS component its own policy, by edition", () => {
        expect(names(ce)).toEqual(["default-deny", "allow-dns", "gateway", "queue-worker", "nats", "prometheus", "alertmanager", "gateway-connectivity-check", "nats-connector"]);
        expect(names(pro)).toEqual(["default-deny", "allow-dns", "gateway", "queue-worker", "nats", "prometheus", "autoscaler-dashboard", "acme-solver"]);
    });

    it("reach the API server at the node's address on 6443 (kube-router judges after DNAT), not at the Service IP", () => {
        const gateway = ce.find((p) => (p.metadata as { name: string }).name === "gateway") as { spec: { egress: unknown[] } };
        expect(gateway.spec.egress[0]).toEqual({ to: [{ ipBlock: { cidr: "192.0.2.10/32" } }], ports: [{ protocol: "TCP", port: 6443 }] });
        const v6 = renderCoreNetworkPolicies({ location, edition: "pro", nodeAddress: "2001:db8::10", connector: false, callbackEgress: [], acme: false, edgeNamespace: "nginx-ingress" });
        expect(JSON.stringify(v6)).toContain('"cidr":"2001:db8::10/128"');
    });

    it("open the internet to the CE gateway only as the declared exception the pack accepts", () => {
        const check = ce.find((p) => (p.metadata as { name: string }).name === "gateway-connectivity-check") as Record<string, unknown>;
        expect((check.metadata as { annotations: Record<string, string> }).annotations["sovereign-faas.io/egress-exception"]).toBe("openfaas-ce-connectivity");
        expect(evaluateRules([egressDefaultDeny], ce.map(asView))).toEqual([]);
        expect(names(pro)).not.toContain("gateway-connectivity-check");
    });

    it("ACME: cert-manager's controller is the accepted exception on 80/443; the edge reaches solver pods", () => {
        const edge = renderEdgeNetworkPolicies({ location, namespace: "nginx-ingress", nodeAddress: "192.0.2.10", acme: true, certManagerNamespace: "cert-manager" });
        expect(names(edge)).toEqual(["default-deny", "allow-dns", "controller", "default-deny", "allow-dns", "api", "webhook", "acme"]);
        expect(evaluateRules([egressDefaultDeny, addressesRegisteredHere], edge.map(asView))).toEqual([]);
        expect(JSON.stringify(edge)).toContain("acme.cert-manager.io/http01-solver");
    });

    it("the library's exceptions are the pack's, word for word", () => {
        expect(LIBRARY_EXCEPTIONS).toEqual(EGRESS_EXCEPTIONS);
    });
});

describe("egress-default-deny", () => {
    const workload = (ns: string): ResourceView => ({ type: "kubernetes:apps/v1:Deployment", name: `w-${ns}`, props: { metadata: { namespace: ns }, spec: { template: { spec: { containers: [] } } } } });
    const deny = (ns: string): ResourceView => ({ type: NP, name: `deny-${ns}`, props: { metadata: { name: "deny", namespace: ns }, spec: { podSelector: {}, policyTypes: ["Egress"] } } });
    const egress = (rules: unknown[], ns = "apps", annotations: Record<string, string> = {}, podSelector: unknown = {}): ResourceView => ({
        type: NP,
        name: "open",
        props: { metadata: { name: "open", namespace: ns, annotations }, spec: { podSelector, policyTypes: ["Egress"], egress: rules } },
    });
    const judge = (rs: ResourceView[]) => evaluateRules([egressDefaultDeny], rs).map((r) => r.message);

    it("flags a namespace that runs workloads without a default deny, once", () => {
        expect(judge([workload("apps"), workload("apps")])).toEqual([expect.stringMatching(/^Namespace apps runs workloads \(w-apps\) and must have a default-deny egress NetworkPolicy/)]);
        expect(judge([{ type: "kubernetes:helm.sh/v3:Release", name: "rel", props: { namespace: "charts" } }])).toEqual([expect.stringContaining("Namespace charts")]);
        expect(judge([workload("apps"), deny("apps")])).toEqual([]);
    });

    it.each([
        ["a selector that picks some pods", { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Egress"] }],
        ["ingress only", { podSelector: {}, policyTypes: ["Ingress"] }],
        ["an egress rule", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] }],
    ])("does not take %s for a default deny", (_, spec) => {
        expect(judge([workload("apps"), { type: NP, name: "p", props: { metadata: { namespace: "apps" }, spec } }])).toHaveLength(1);
    });

    it.each([
        ["no to", [{ ports: [{ port: 443 }] }]],
        ["to: []", [{ to: [] }]],
        ["0.0.0.0/0", [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }]],
        ["two halves", [{ to: [{ ipBlock: { cidr: "0.0.0.0/1" } }, { ipBlock: { cidr: "128.0.0.0/1" } }] }]],
        ["halves in two rules", [{ to: [{ ipBlock: { cidr: "0.0.0.0/1" } }] }, { to: [{ ipBlock: { cidr: "128.0.0.0/1" } }], ports: [{ port: 80 }] }]],
        ["everything but private space", [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }] }]],
        ["sixteen /4s", [{ to: Array.from({ length: 16 }, (_, i) => ({ ipBlock: { cidr: `${i * 16}.0.0.0/4` } })) }]],
        ["::/0", [{ to: [{ ipBlock: { cidr: "::/0" } }] }]],
        ["2000::/3", [{ to: [{ ipBlock: { cidr: "2000::/3" } }] }]],
        ["2000::/4 + 3000::/4", [{ to: [{ ipBlock: { cidr: "2000::/4" } }, { ipBlock: { cidr: "3000::/4" } }] }]],
    ])("flags everything spelt as %s", (_, rules) => {
        expect(judge([egress(rules)])).toEqual([expect.stringMatching(/^NetworkPolicy open must not allow every destination/)]);
    });

    it.each([
        ["0.0.0.0/2", [{ to: [{ ipBlock: { cidr: "0.0.0.0/2" } }] }]],
        ["0.0.0.0/0 except a public /8", [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["11.0.0.0/8"] } }] }]],
        ["2000::/4", [{ to: [{ ipBlock: { cidr: "2000::/4" } }] }]],
        ["pods of any namespace", [{ to: [{ namespaceSelector: {} }] }]],
    ])("does not flag %s", (_, rules) => {
        expect(judge([egress(rules)])).toEqual([]);
    });

    const internet = [{ to: [{ ipBlock: { cidr: "0.0.0.0/1" } }, { ipBlock: { cidr: "128.0.0.0/1" } }], ports: [{ protocol: "TCP", port: 443 }] }];
    const gateway = { matchLabels: { app: "gateway" } };
    it("accepts a known exception only in its exact shape", () => {
        const ok = egress(internet, "openfaas", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, gateway);
        expect(judge([ok])).toEqual([]);
        const variants: ResourceView[] = [
            egress(internet, "openfaas", { "sovereign-faas.io/egress-exception": "made-up" }, gateway),
            egress(internet, "apps", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, gateway),
            egress(internet, "openfaas", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, {}),
            egress([{ ...internet[0], ports: [{ protocol: "TCP", port: 5432 }] }], "openfaas", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, gateway),
            egress([{ to: internet[0].to }], "openfaas", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, gateway),
            egress([{ ...internet[0], ports: [{ protocol: "TCP", port: 443, endPort: 65535 }] }], "openfaas", { "sovereign-faas.io/egress-exception": "openfaas-ce-connectivity" }, gateway),
        ];
        for (const v of variants) {
            expect(judge([v])).toHaveLength(1);
        }
    });
});

describe("registry evidence", () => {
    it.each([
        ["192.0.2.10", "reserved"],
        ["198.51.100.0/24", "reserved"],
        ["203.0.113.7", "reserved"],
        ["2001:db8::1", "reserved"],
        ["10.1.2.3", "private"],
        ["100.64.0.1", "carrierGradeNat"],
        ["fd00::1", "uniqueLocal"],
        ["127.0.0.1", "loopback"],
    ])("%s is special-purpose space (%s): no country, never looked up", (address, range) => {
        expect(registryEvidence(address)).toEqual({ kind: "special", range });
    });

    it.each([
        ["2.148.0.0/14", "NO"],
        ["2.150.1.2", "NO"],
        ["2001:678:f0::/48", "NO"],
        ["2.28.0.0/14", "DE"],
        ["2.0.0.0/15", "SE"],
        ["1.0.0.0/24", "AU"],
        ["1.0.1.0/24", "CN"],
        ["2001:4860::/32", "US"],
        ["2001:678:ac::1", "SE"],
    ])("%s is registered in %s", (address, country) => {
        const e = registryEvidence(address);
        expect(e?.kind).toBe("registered");
        expect(e?.kind === "registered" ? [...new Set(e.stretches.map((s) => s.country))] : []).toEqual([country]);
    });

    it("splits a range that spans countries, stretch by stretch", () => {
        const e = registryEvidence("2.152.0.0/16");
        expect(e?.kind === "registered" ? e.stretches.slice(0, 3).map((s) => `${s.first}-${s.last} ${s.country}`) : []).toEqual([
            "2.152.0.0-2.152.63.255 ES",
            "2.152.64.0-2.152.65.255 DE",
            "2.152.66.0-2.152.67.255 ES",
        ]);
        expect(foreignStretches(e!, ["ES"]).map((s) => s.country)).toContain("DE");
    });

    it("host bits do not change the answer", () => {
        expect(registryEvidence("2.148.7.9/14")).toEqual(registryEvidence("2.148.0.0/14"));
    });

    const command = (host: string): ResourceView => ({ type: "command:remote:Command", name: `cmd-${host}`, props: { connection: { host }, create: "true" } });
    const rangePolicy = (cidr: string): ResourceView => ({ type: NP, name: "p", props: { metadata: { namespace: "apps" }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ port: 443 }] }] } } });
    const judge = (rs: ResourceView[]) => evaluateRules([addressesRegisteredHere], rs).map((r) => r.message);

    it("a host registered abroad fails, naming the dataset and its date", () => {
        const out = judge([command("2.28.1.1"), command("2.28.1.1")]);
        expect(out).toEqual([`cmd-2.28.1.1: the host 2.28.1.1 must be registered in NO: 2.28.1.1 is registered in DE (${DATASET_LABEL}).`]);
        expect(DATASET_LABEL).toBe("@ip-location-db/asn-country@2.3.2026061719 (RIR registrations as of 2026-06-17)");
    });

    it("a host registered in Norway, a documentation address and a DNS name pass", () => {
        expect(judge([command("2.148.1.1"), command("192.0.2.10"), command("vps1.example.no")])).toEqual([]);
    });

    it("an egress range registered abroad, or not at all, fails; Norwegian and private ranges pass", () => {
        expect(judge([rangePolicy("2.28.0.0/14")])).toEqual([expect.stringContaining("is registered in DE")]);
        expect(judge([rangePolicy("0.0.0.0/8")])).toEqual([]);
        expect(judge([rangePolicy("11.0.0.0/8")])).toEqual([expect.stringContaining("is registered in US")]);
        expect(judge([rangePolicy("5.249.168.0/21")])).toEqual([expect.stringContaining("is registered nowhere (no evidence)")]);
        expect(judge([rangePolicy("2.148.0.0/14"), rangePolicy("10.0.0.0/8"), rangePolicy("2001:678:f0::/48")])).toEqual([]);
    });

    it("an allowed country's setting widens what passes", () => {
        expect(evaluateRules([addressesRegisteredHere], [rangePolicy("2.28.0.0/14")], { settings: { "addresses-registered-here": { ...DEFAULT_CONFIG, allowedCountries: ["NO", "DE"] } } })).toEqual([]);
    });

    it("IP literals in data values: a Norwegian address passes, a foreign one fails with its country", () => {
        const env = (value: string): ResourceView => ({ type: "kubernetes:apps/v1:Deployment", name: "d", props: { spec: { template: { spec: { containers: [{ name: "c", env: [{ name: "DB", value }] }] } } } } });
        expect(noForeignDataEndpoints.checkResource!(env("postgres://2.148.1.1:5432/db"), DEFAULT_CONFIG)).toEqual([]);
        expect(noForeignDataEndpoints.checkResource!(env("postgres://2.28.1.1:5432/db"), DEFAULT_CONFIG)).toEqual([expect.stringContaining("registered in DE")]);
        expect(noForeignDataEndpoints.checkResource!(env("5.249.170.1:443"), DEFAULT_CONFIG)).toEqual([expect.stringContaining("with no registry entry")]);
    });
});

describe("declared destinations are checked where they enter", () => {
    it.each([
        ["203.0.113.0/24=443", [{ cidr: "203.0.113.0/24", ports: [443] }]],
        ["203.0.113.0/24=443,8443  2001:db8::/32=53/udp", [{ cidr: "203.0.113.0/24", ports: [443, 8443] }, { cidr: "2001:db8::/32", ports: [53], protocol: "UDP" }]],
        ["198.51.100.7/32=5432;203.0.113.0/24=443", [{ cidr: "198.51.100.7/32", ports: [5432] }, { cidr: "203.0.113.0/24", ports: [443] }]],
    ])("parses %j", (text, destinations) => {
        expect(parseEgressAnnotation(text)).toEqual({ destinations, problems: [] });
    });

    it.each(["203.0.113.0/24", "203.0.113.0/24=", "203.0.113.0/24=http", "=443", "203.0.113.0/24=0", "203.0.113.0/24=70000", "203.0.113.0/24=443/sctp"])("refuses %j", (text) => {
        expect(parseEgressAnnotation(text).problems).toHaveLength(1);
    });

    it.each([
        [{ cidr: "objects.example.no", ports: [443] }, "must be an IPv4 or IPv6 CIDR block"],
        [{ cidr: "203.0.113.7/24", ports: [443] }, "has host bits set"],
        [{ cidr: "0.0.0.0/0", ports: [443] }, "allows every address"],
        [{ cidr: "::/0", ports: [443] }, "allows every address"],
        [{ cidr: "203.0.113.0/24", ports: [] }, "must list 1 to 64 port numbers"],
        [{ cidr: "203.0.113.0/24", ports: ["https"] }, "must list 1 to 64 port numbers"],
        [{ cidr: "203.0.113.0/24", ports: [443], protocol: "SCTP" }, "must be TCP or UDP"],
        [{ cidr: "203.0.113.0/24", ports: [443], via: "x" }, "is not a destination setting"],
    ])("refuses %j", (d, rule) => {
        expect(egressDestinationProblems([d], "network.egress")).toEqual([expect.objectContaining({ rule: expect.stringContaining(rule) })]);
    });

    const base: RawConfig = MINIMAL_CONFIG;
    const problems = (raw: RawConfig) => {
        try {
            parseStackConfig(raw);
            return [];
        } catch (err) {
            return (err as ValidationError).problems.map((p) => `${p.key}: ${p.rule}`);
        }
    };

    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
    });

    it("the program refuses bad network settings, all at once", () => {
        expect(problems({ ...base, network: JSON.stringify({ egress: [{ cidr: "0.0.0.0/0", ports: [443] }, { cidr: "x", ports: [1] }], nodeAddres: "1.2.3.4" }) })).toEqual([
            expect.stringContaining("sovereign-faas:network.nodeAddres: is not a known setting; did you mean nodeAddress?"),
            expect.stringContaining("sovereign-faas:network.egress[0].cidr: allows every address"),
            expect.stringContaining("sovereign-faas:network.egress[1].cidr: must be an IPv4 or IPv6 CIDR block"),
        ]);
    });

    it("a DNS-name host needs network.nodeAddress, which must be an IP", () => {
        expect(problems({ ...base, host: "vps1.example.no" })).toEqual([expect.stringContaining("sovereign-faas:network.nodeAddress: is required when sovereign-faas:host is a DNS name")]);
        expect(problems({ ...base, host: "vps1.example.no", network: JSON.stringify({ nodeAddress: "vps1.example.no" }) })).toEqual([expect.stringContaining("must be an IP address")]);
        expect(problems({ ...base, host: "vps1.example.no", network: JSON.stringify({ nodeAddress: "192.0.2.10" }) })).toEqual([]);
    });

    it("the platform component refuses the same, before anything exists", () => {
        const p = validatePlatformArgs({
            host: "vps1.example.no",
            location,
            ssh: { privateKey: pulumi.secret("k") },
            firewall: { sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.0/24"] },
            network: { egress: [{ cidr: "0.0.0.0/0", ports: [443] }] },
        }).items;
        expect(p.map((x) => x.key)).toEqual(expect.arrayContaining(["host", "network.egress[0].cidr"]));
    });

    it("a stack.yml annotation that is not a destination list is refused with the function named", () => {
        const p = problems({ ...base, functions: "tests/fixtures/bad-egress-stack.yml" });
        expect(p).toEqual([expect.stringMatching(/^tests\/fixtures\/bad-egress-stack.yml: functions.f.annotations.sovereign-faas.io\/egress: .*is not <cidr>=<port>/)]);
    });
});

describe("the prod plan", () => {
    const run = planStack("prod");
    const plan = {
        status: run.status,
        resources: run.status === 0 ? (run.resources() as Array<{ type: string; inputs: Record<string, unknown> }>) : [],
        report: run.status === 0 ? fs.readFileSync(path.join(run.outDir, "sovereignty-report.md"), "utf8") : run.stderr,
    };

    it("has a default-deny egress policy in every namespace that runs workloads, and passes the new rules", () => {
        expect(plan.status).toBe(0);
        const namespaces = new Set(
            plan.resources
                .filter((r) => r.type === "kubernetes:helm.sh/v3:Release" || r.type === "kubernetes:apps/v1:Deployment")
                .map((r) => String(r.type === "kubernetes:helm.sh/v3:Release" ? r.inputs.namespace : (r.inputs.metadata as { namespace: string }).namespace)),
        );
        const denied = new Set(plan.resources.filter((r) => r.type === NP && (r.inputs.metadata as { name: string }).name === "default-deny").map((r) => (r.inputs.metadata as { namespace: string }).namespace));
        expect([...namespaces].sort()).toEqual(["cert-manager", "nginx-ingress", "openfaas", "openfaas-fn"]);
        expect([...namespaces].every((ns) => denied.has(ns))).toBe(true);
    });

    it("gives each function exactly what its stack.yml annotation declares", () => {
        const fnPolicies = plan.resources.filter((r) => r.type === NP && /^function-/.test((r.inputs.metadata as { name: string }).name));
        expect(fnPolicies.map((r) => [(r.inputs.metadata as { name: string }).name, JSON.stringify((r.inputs.spec as { egress: unknown }).egress)])).toEqual([
            ["function-image-resizer-egress", JSON.stringify([{ ports: [{ port: 443, protocol: "TCP" }], to: [{ ipBlock: { cidr: "203.0.113.0/24" } }] }])],
            ["function-payment-processor-egress", JSON.stringify([{ ports: [{ port: 443, protocol: "TCP" }], to: [{ ipBlock: { cidr: "198.51.100.0/24" } }] }])],
        ]);
    });

    it("the report says what each namespace may reach, with the evidence and the dataset", () => {
        expect(plan.report).toContain("## Network: what each namespace may reach");
        expect(plan.report).toContain("| openfaas-fn | yes | function-payment-processor-egress | faas_function=payment-processor | 198.51.100.0/24 on 443/TCP |");
        expect(plan.report).toContain("@ip-location-db/asn-country@2.3.2026061719, RIR registrations as of 2026-06-17");
        expect(plan.report).toContain("| 192.0.2.10 | the host | host-probe | special-purpose address space (reserved)");
        expect(plan.report).toContain("`cert-manager/acme` (acme)");
    });
});
