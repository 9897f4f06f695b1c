import * as fs from "fs";
import * as path from "path";

import {
    DEFAULT_CONFIG,
    endpointProblem,
    evaluateRules,
    hostsIn,
    parsePackConfig,
    PackConfig,
    resolveConfig,
    ResourceView,
    RULES,
} from "../../policies/rules";
import { REPO_ROOT } from "../helpers/plan";

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

/** A valid baseline stack: one host, K3s, a pinned function with a sovereign volume, an Ingress with TLS. */
function baseline(): ResourceView[] {
    const stamp = '# sovereign-faas-location: {"country":"NO","region":"NO-03"}';
    return [
        { type: "command:remote:Command", name: "kernel-apply", props: { create: `bash -c "$(cat <<'X'\n#!/usr/bin/env bash\n${stamp}\nset -euo pipefail\nX\n)" sovereign-faas-kernel\n` } },
        {
            type: "command:remote:Command",
            name: "k3s-install",
            props: {
                create: `bash -c "...\n${stamp}\ndisable:\n  - traefik\nnode-label:\n  - sovereign-faas.io/jurisdiction=NO\n  - topology.kubernetes.io/region=NO-03\nwrite-kubeconfig-mode: "0600"\n)" sovereign-faas-k3s\n`,
            },
        },
        {
            type: "kubernetes:apps/v1:Deployment",
            name: "functions-user-profile",
            props: {
                metadata: { name: "user-profile", namespace: "openfaas-fn" },
                spec: {
                    template: {
                        metadata: { labels: { faas_function: "user-profile" }, annotations: {} },
                        spec: {
                            nodeSelector: { "sovereign-faas.io/jurisdiction": "NO", "topology.kubernetes.io/region": "NO-03" },
                            containers: [
                                {
                                    name: "user-profile",
                                    env: [{ name: "API", value: "https://api.example.no/v1" }, { name: "GW", value: "http://gateway.openfaas:8080" }],
                                    resources: { limits: { cpu: "500m", memory: "128Mi" } },
                                    volumeMounts: [{ name: "profiles", mountPath: "/data/profiles", readOnly: true }],
                                },
                            ],
                            volumes: [{ name: "profiles", hostPath: { path: "/data/sovereign/profiles", type: "Directory" } }],
                        },
                    },
                },
            },
        },
        { type: "kubernetes:core/v1:Secret", name: "s", props: { stringData: { url: "https://objects.example.no/bucket" }, data: { b: Buffer.from("nats://nats.openfaas:4222").toString("base64") } } },
        { type: "kubernetes:helm.sh/v3:Release", name: "openfaas", props: { chart: "openfaas", values: { gateway: { image: "ghcr.io/openfaas/gateway:1" }, nats: { external: { enabled: false } } } } },
        { type: "kubernetes:helm.sh/v3:Release", name: "q", props: { chart: "queue-worker", values: { nats: { host: "nats.openfaas" } } } },
        // Default-deny egress where workloads run (the Helm releases have no namespace: "default").
        ...["openfaas-fn", "default"].map((ns) => ({ type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: `deny-${ns}`, props: { metadata: { name: "default-deny", namespace: ns }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } } })),
        {
            type: "kubernetes:networking.k8s.io/v1:Ingress",
            name: "gateway",
            props: { metadata: { annotations: { "nginx.org/mergeable-ingress-type": "master" } }, spec: { tls: [{ hosts: ["f.example.no"] }], rules: [{ host: "f.example.no" }] } },
        },
        {
            type: "kubernetes:networking.k8s.io/v1:Ingress",
            name: "gateway-functions",
            props: { metadata: { annotations: { "nginx.org/mergeable-ingress-type": "minion" } }, spec: { rules: [{ host: "f.example.no", http: { paths: [] } }] } },
        },
    ];
}

/** Every rule with the same settings. */
const everyRule = (config: PackConfig) => ({ settings: Object.fromEntries(RULES.map((r) => [r.name, config])) });
const messages = (resources: ResourceView[], config = DEFAULT_CONFIG): string[] => evaluateRules(RULES, resources, everyRule(config)).map((r) => `${r.policy}: ${r.message}`);

function mutate(edit: (rs: Record<string, any>) => void): string[] {
    const rs = clone(baseline());
    edit(Object.fromEntries(rs.map((r) => [r.name, r.props])));
    return messages(rs);
}

describe("policy rules", () => {
    it("the baseline passes every rule", () => {
        expect(messages(baseline())).toEqual([]);
    });

    it("has kebab-case names, 'Checks whether' descriptions, mandatory location rules", () => {
        for (const r of RULES) {
            expect(r.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(r.description.startsWith("Checks whether")).toBe(true);
        }
        expect(RULES.filter((r) => r.enforcementLevel !== "mandatory")).toEqual([]);
    });

    it("host-in-allowed-country: a host in Germany, and a command without a stamp", () => {
        expect(mutate((r) => (r["kernel-apply"].create = r["kernel-apply"].create.replace('"NO","region":"NO-03"', '"DE","region":"DE-BE"')))).toEqual([
            'host-in-allowed-country: Host of kernel-apply must be in an allowed country (NO); it declares "DE".',
            'host-in-allowed-country: Host of kernel-apply must be in a region of NO; it declares region "DE-BE".',
        ]);
        expect(mutate((r) => (r["kernel-apply"].create = "echo hi"))).toEqual([
            'host-in-allowed-country: Remote command kernel-apply must declare its host\'s location (a "# sovereign-faas-location: {...}" line in its script).',
        ]);
    });

    it("allowedRegions narrows the regions", () => {
        const config = resolveConfig({ allowedRegions: ["NO-46"] });
        expect(messages(baseline(), config)).toContain("host-in-allowed-country: Host of kernel-apply must be in regions NO-46; it declares region \"NO-03\".");
    });

    it("sovereign-node-labels: the node labelled for another country", () => {
        expect(mutate((r) => (r["k3s-install"].create = r["k3s-install"].create.replace("jurisdiction=NO", "jurisdiction=SE")))).toEqual([
            'sovereign-node-labels: K3s node of k3s-install must carry sovereign-faas.io/jurisdiction with an allowed country (NO); it has "SE".',
        ]);
    });

    it("kubeconfig-private: 0644 fails", () => {
        expect(mutate((r) => (r["k3s-install"].create = r["k3s-install"].create.replace('"0600"', '"0644"')))).toEqual([
            "kubeconfig-private: K3s kubeconfig of k3s-install must be readable by its owner only (0600 or narrower); it is 0644.",
        ]);
    });

    it("hostpath-under-sovereign-root: outside the root, DirectoryOrCreate, writable without declaring it", () => {
        expect(
            mutate((r) => {
                const spec = r["functions-user-profile"].spec.template.spec;
                spec.volumes[0].hostPath = { path: "/var/lib/data", type: "DirectoryOrCreate" };
                spec.containers[0].volumeMounts[0].readOnly = false;
            }),
        ).toEqual([
            'hostpath-under-sovereign-root: functions-user-profile must mount hostPath volumes only from under /data/sovereign; volume profiles uses "/var/lib/data".',
            'hostpath-under-sovereign-root: functions-user-profile must use hostPath type Directory for volume profiles (so a missing directory fails instead of being created empty); it uses "DirectoryOrCreate".',
            "hostpath-under-sovereign-root: functions-user-profile must mount volume profiles read-only in container user-profile, or list it in the pod annotation sovereign-faas.io/writable-volumes.",
        ]);
        expect(
            mutate((r) => {
                const t = r["functions-user-profile"].spec.template;
                t.spec.containers[0].volumeMounts[0].readOnly = false;
                t.metadata.annotations["sovereign-faas.io/writable-volumes"] = "profiles";
            }),
        ).toEqual([]);
    });

    it("sovereign-workloads-pinned: no nodeSelector, or pinned to another region", () => {
        expect(mutate((r) => delete r["functions-user-profile"].spec.template.spec.nodeSelector)).toEqual([
            "sovereign-workloads-pinned: functions-user-profile mounts sovereign data and must be pinned (nodeSelector or required node affinity) to topology.kubernetes.io/region in a region of NO; it has [].",
            "sovereign-workloads-pinned: functions-user-profile mounts sovereign data and must be pinned to sovereign-faas.io/jurisdiction in NO; it has [].",
        ]);
        const affinity = mutate((r) => {
            const spec = r["functions-user-profile"].spec.template.spec;
            delete spec.nodeSelector;
            spec.affinity = {
                nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [
                            {
                                matchExpressions: [
                                    { key: "topology.kubernetes.io/region", operator: "In", values: ["NO-03"] },
                                    { key: "sovereign-faas.io/jurisdiction", operator: "In", values: ["NO"] },
                                ],
                            },
                        ],
                    },
                },
            };
        });
        expect(affinity).toEqual([]);
    });

    it("no-foreign-data-endpoints: an S3 endpoint in an env var, a GCS URL in a Secret, a .com host in Helm values", () => {
        expect(
            mutate((r) => {
                r["functions-user-profile"].spec.template.spec.containers[0].env.push({ name: "BUCKET", value: "https://s3.eu-central-1.amazonaws.com/profiles" });
                r.s.data.g = Buffer.from("https://storage.googleapis.com/b").toString("base64");
                r.openfaas.values.eventSubscription = { endpoint: "https://hooks.example.com/x" };
            }),
        ).toEqual([
            "no-foreign-data-endpoints: functions-user-profile must not send data outside the allowed jurisdiction: env BUCKET of container user-profile points at s3.eu-central-1.amazonaws.com is foreign storage (amazonaws.com).",
            // A Secret's host is part of the secret: the message names the field and the rule only.
            "no-foreign-data-endpoints: s must not send data outside the allowed jurisdiction: data.g (secret) points at foreign storage (host not shown).",
            "no-foreign-data-endpoints: openfaas must not send data outside the allowed jurisdiction: values.eventSubscription.endpoint points at hooks.example.com is outside the allowed domains (.no).",
        ]);
    });

    it("no-foreign-data-endpoints: a foreign store under an allowed suffix still fails; images, versions and in-cluster names pass", () => {
        expect(endpointProblem("bucket.s3.amazonaws.com", resolveConfig({ allowedEgressDomains: [".com"] }))).toBe("bucket.s3.amazonaws.com is foreign storage (amazonaws.com)");
        expect(hostsIn("1.2.3")).toEqual([]);
        expect(hostsIn("v1.33.5+k3s1")).toEqual([]);
        // A bare word with a suffix the Public Suffix List does not list cannot resolve publicly: not a host.
        expect(hostsIn("nats.openfaas")).toEqual([]);
        expect(hostsIn("nats://nats.openfaas:4222")).toEqual(["nats.openfaas"]);
        expect(endpointProblem("nats.openfaas", DEFAULT_CONFIG)).toBeUndefined();
        expect(endpointProblem("db.prod.svc.cluster.local", DEFAULT_CONFIG)).toBeUndefined();
    });

    it("queue-data-local: external NATS abroad, and a queue-worker pointed outside", () => {
        expect(
            mutate((r) => {
                r.openfaas.values.nats.external = { enabled: true, host: "nats.example.de" };
                r.q.values.nats.host = "nats.example.com";
            }),
        ).toEqual([
            "no-foreign-data-endpoints: openfaas must not send data outside the allowed jurisdiction: values.nats.external.host points at nats.example.de is outside the allowed domains (.no).",
            "no-foreign-data-endpoints: q must not send data outside the allowed jurisdiction: values.nats.host points at nats.example.com is outside the allowed domains (.no).",
            "queue-data-local: openfaas must keep queued messages in the cluster or on allowed hosts: nats.external.host points at nats.example.de is outside the allowed domains (.no).",
            "queue-data-local: q must keep queued messages in the cluster or on allowed hosts: nats.host points at nats.example.com is outside the allowed domains (.no).",
        ]);
    });

    it("ingress-tls-required: a master without TLS leaves its minions uncovered", () => {
        expect(mutate((r) => delete r.gateway.spec.tls)).toEqual([
            "ingress-tls-required: Ingress gateway must serve host f.example.no over TLS (spec.tls).",
            "ingress-tls-required: Ingress gateway-functions must serve host f.example.no over TLS (spec.tls).",
        ]);
    });

    it("function-limits-set: a function without a CPU limit", () => {
        expect(mutate((r) => delete r["functions-user-profile"].spec.template.spec.containers[0].resources.limits.cpu)).toEqual([
            "function-limits-set: Function functions-user-profile must set a cpu limit on container user-profile.",
        ]);
    });

    it("never crashes on unknown values, and says what it could not check", () => {
        const rs: ResourceView[] = [
            { type: "command:remote:Command", name: "c", props: { create: "[unknown]" } },
            { type: "kubernetes:apps/v1:Deployment", name: "d", props: { spec: "[unknown]" } },
            { type: "kubernetes:helm.sh/v3:Release", name: "h", props: { values: "[unknown]" } },
            { type: "kubernetes:networking.k8s.io/v1:Ingress", name: "i", props: { spec: { rules: "[unknown]" } } },
            { type: "kubernetes:core/v1:Secret", name: "s", props: { stringData: "[secret]" } },
        ];
        expect(messages(rs)).toEqual([
            "no-foreign-data-endpoints: can't run policy 'no-foreign-data-endpoints' during preview: values can't be known during preview, so it could not be checked",
            "egress-default-deny: Namespace default runs workloads (h) and must have a default-deny egress NetworkPolicy (podSelector: {}, policyTypes: [Egress], no egress rules), so that nothing there reaches a destination it did not declare.",
        ]);
    });
});

describe("pack config", () => {
    it("has the documented defaults", () => {
        expect(DEFAULT_CONFIG.allowedCountries).toEqual(["NO"]);
        expect(DEFAULT_CONFIG.allowedRegions).toEqual([]);
        expect(DEFAULT_CONFIG.sovereignRoots).toEqual(["/data/sovereign"]);
        expect(DEFAULT_CONFIG.allowedEgressDomains).toEqual([".no"]);
        expect(DEFAULT_CONFIG.foreignStoragePatterns).toEqual(expect.arrayContaining(["amazonaws.com", "blob.core.windows.net", "storage.googleapis.com"]));
    });

    it("reads --policy-pack-config documents: levels and settings", () => {
        const pack = parsePackConfig({ "function-limits-set": "advisory", "host-in-allowed-country": { enforcementLevel: "mandatory", allowedCountries: ["NO", "SE"] } }, RULES);
        expect(pack.problems).toEqual([]);
        expect(pack.levels).toEqual(expect.objectContaining({ "function-limits-set": "advisory", "host-in-allowed-country": "mandatory" }));
        expect(pack.settings["host-in-allowed-country"].allowedCountries).toEqual(["NO", "SE"]);
        // Scoped: the other rules keep the default.
        expect(pack.settings["sovereign-node-labels"].allowedCountries).toEqual(["NO"]);
        const rs = clone(baseline());
        delete (rs[2].props as any).spec.template.spec.containers[0].resources.limits.cpu;
        expect(evaluateRules(RULES, rs, pack).map((r) => r.enforcementLevel)).toEqual(["advisory"]);
        expect(evaluateRules(RULES, rs, { levels: { "function-limits-set": "disabled" } })).toEqual([]);
    });

    it("policies/index.ts only constructs the pack", () => {
        const code = fs
            .readFileSync(path.join(REPO_ROOT, "policies", "index.ts"), "utf8")
            .split("\n")
            .filter((l) => l.trim() !== "" && !l.trim().startsWith("//"));
        expect(code).toEqual([
            'import { PolicyPack } from "@pulumi/policy";',
            'import { guardConfigure, policies } from "./crossguard";',
            'guardConfigure(require(require.resolve("@grpc/grpc-js", { paths: [require.resolve("@pulumi/policy")] })).Server);',
            'new PolicyPack("sovereign-faas-norway", { policies });',
        ]);
    });

    it("the rules import nothing from the library, and the library nothing from the pack", () => {
        const grep = (dir: string, needle: RegExp): string[] =>
            fs.readdirSync(dir, { recursive: true, encoding: "utf8" })
                .filter((f) => f.endsWith(".ts"))
                .filter((f) => needle.test(fs.readFileSync(path.join(dir, f), "utf8")));
        expect(grep(path.join(REPO_ROOT, "policies"), /from "\.\.\/(\.\.\/)?components/)).toEqual([]);
        expect(grep(path.join(REPO_ROOT, "components"), /policies\//)).toEqual([]);
    });
});
