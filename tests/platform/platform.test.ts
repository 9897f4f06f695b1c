import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { FunctionSpec, Functions, NginxEdge, OpenFaas, SovereignFaasPlatform, ValidationError } from "../../components";
import { Recorder } from "../../program/plan/recorder";

const location = { country: "NO", region: "NO-03" };
const KEY = pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n");

function fn(name: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
    return { name, image: `ghcr.io/example-no/${name}:1.0.0`, environment: {}, secrets: [], labels: {}, annotations: {}, limits: {}, requests: {}, readonlyRootFilesystem: false, nodeSelector: {}, ...extra };
}

describe("SovereignFaasPlatform", () => {
    let rec: Recorder;
    let platform: SovereignFaasPlatform;

    beforeAll(async () => {
        rec = await Recorder.start({ project: "sovereign-faas", stack: "platform" });
        platform = new SovereignFaasPlatform("sovereign-faas", {
            host: "192.0.2.10",
            location,
            ssh: { privateKey: KEY },
            firewall: { sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] },
            functions: [fn("reader")],
            volumes: [{ name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", readOnly: true, functions: ["reader"], owner: 10000, requireEncryption: false }],
            edge: { domain: "functions.example.no", tls: { mode: "self-signed" } },
        });
        await rec.settle();
    });

    it("composes the host, the cluster, OpenFaaS, queues, functions, volumes and the edge under one component", () => {
        expect(rec.records.filter((r) => r.parent === "sovereign-faas").map((r) => [r.type, r.name]).sort((a, b) => a[1].localeCompare(b[1]))).toEqual([
            ["sovereign-faas:ingress:NginxEdge", "edge"],
            ["sovereign-faas:host:Firewall", "firewall"],
            ["sovereign-faas:functions:Functions", "functions"],
            ["sovereign-faas:host:SshConnection", "host"],
            ["sovereign-faas:k3s:K3sCluster", "k3s"],
            ["sovereign-faas:host:KernelTuning", "kernel"],
            ["sovereign-faas:openfaas:OpenFaas", "openfaas"],
            ["sovereign-faas:host:Preflight", "preflight"],
            ["sovereign-faas:queues:AsyncQueues", "queues"],
            ["sovereign-faas:volumes:SovereignVolumes", "volumes"],
        ]);
    });

    it("aliases every child to its old place at the top of the stack, so deployed stacks keep their URNs", () => {
        for (const r of rec.records.filter((x) => x.parent === "sovereign-faas")) {
            expect(r.options.aliases).toEqual([`urn:pulumi:platform::sovereign-faas::${r.type}::${r.name}`]);
        }
    });

    it("keeps the order of the host steps and lets the volumes start after the preflight", () => {
        expect(rec.byName("kernel-apply").dependsOn).toEqual(["preflight-check"]);
        expect(rec.byName("k3s-install").dependsOn).toEqual(["firewall-apply", "kernel-apply"]);
        expect(rec.byName("volumes-dirs").dependsOn).toEqual(["preflight-check"]);
    });

    it("labels the functions' namespace for hostPath volumes by itself, and pins nothing else", () => {
        expect((rec.byName("openfaas-fn-ns").inputs as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
        expect(platform.openfaas.features.functionNamespaceEnforce).toBe("privileged");
        // K3s 1024 + OpenFaaS CE 1017 (gateway and faas-netes 240, queue-worker 120, NATS 120,
        // Prometheus 512, Alertmanager 25) + one function 64 + the edge 128.
        expect(platform.memoryFloorMiB).toBe(1024 + 1017 + 64 + 128);
        expect(platform.publicUrl).toBe("https://functions.example.no/");
    });

    it("refuses arguments the program would refuse, before creating anything", () => {
        expect(
            () => new SovereignFaasPlatform("p2", { host: "h", location, ssh: { privateKey: KEY }, firewall: { sshSources: [], apiSources: [] }, namePrefix: "p2-" }),
        ).toThrow(ValidationError);
    });
});

describe("the rules hold in the components, not only in the program", () => {
    const provider = () => new k8s.Provider("k8s", { kubeconfig: "fake" });
    const problems = (f: () => unknown): string[] => {
        try {
            f();
        } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
            expect(pulumi.RunError.isInstance(err)).toBe(true);
            return (err as ValidationError).problems.map((p) => `${p.key} | ${p.rule}`);
        }
        return [];
    };

    beforeAll(async () => {
        await Recorder.start({ project: "sovereign-faas", stack: "rules" });
    });

    it("Functions refuses hostPath volumes in a namespace whose Pod Security forbids them", () => {
        const openfaas = new OpenFaas("of1", { provider: provider(), location });
        const volumes = [{ name: "v", hostPath: "/data/sovereign/v", mountPath: "/data/v", readOnly: true, functions: ["a"], owner: 10000, requireEncryption: false }];
        expect(problems(() => new Functions("f1", { provider: provider(), location, functions: [fn("a")], features: openfaas.features, volumes }))).toEqual([
            "functions: volumes | mount hostPath directories, which Pod Security restricted forbids (pod-security-admission check_hostPathVolumes, baseline and up): the namespace would refuse every such pod",
        ]);
        const privileged = new OpenFaas("of2", { provider: provider(), location, hostPathVolumes: true });
        expect(problems(() => new Functions("f2", { provider: provider(), location, functions: [fn("a")], features: privileged.features, volumes }))).toEqual([]);
    });

    it("Functions refuses timeouts longer than the gateway's or the queue's", () => {
        const openfaas = new OpenFaas("of3", { provider: provider(), location, gatewayTimeoutSeconds: 60, queue: { workers: 1, ackWaitSeconds: 60 } });
        const slow = fn("slow", { environment: { exec_timeout: "2m" } });
        expect(problems(() => new Functions("f3", { provider: provider(), location, functions: [slow], features: openfaas.features, source: "stack.yml" }))).toEqual([
            "stack.yml: functions.slow.environment.exec_timeout | is longer than the gateway timeout (60s): the gateway ends the call first",
            "stack.yml: functions.slow.environment.exec_timeout | is longer than the queue's ackWait (60s): an async call's message would be redelivered while the function still runs",
        ]);
    });

    it("Functions refuses CE limits and secrets without values", () => {
        const openfaas = new OpenFaas("of4", { provider: provider(), location });
        const p = problems(() => new Functions("f4", { provider: provider(), location, functions: [fn("a", { labels: { "com.openfaas.scale.zero": "true" }, secrets: ["api-key"] })], features: openfaas.features }));
        expect(p.map((x) => x.split(" | ")[0])).toEqual(["functions: functions.a.labels.com.openfaas.scale.zero", "functions: secrets"]);
    });

    it("NginxEdge refuses a timeout that does not outlast the gateway's write timeout", () => {
        expect(
            problems(() => new NginxEdge("e1", { provider: provider(), location, host: "192.0.2.10", domain: "f.example.no", tls: { mode: "self-signed" }, gatewayTimeoutSeconds: 300, timeoutSeconds: 300 })),
        ).toEqual(["timeoutSeconds | must be longer than the gateway's write timeout (305s for a gateway timeout of 300s), or NGINX answers 504 while the gateway is still answering"]);
    });

    it("OpenFaas logs its own warnings when helmValues override ours", () => {
        const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
        new OpenFaas("of5", { provider: provider(), location, helmValues: { gateway: { replicas: 3 } } });
        expect(warn).toHaveBeenCalledWith(expect.stringContaining("sovereign-faas:openfaas.helmValues.gateway.replicas overrides a value sovereign-faas sets (1 -> 3)"), expect.anything());
        warn.mockRestore();
    });
});
