import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { AsyncQueues, OpenFaas } from "../../components";
import { Recorder } from "../../program/plan/recorder";

const location = { country: "NO", region: "NO-03" };

async function record(build: (provider: k8s.Provider) => void): Promise<Recorder> {
    const rec = await Recorder.start({ project: "sovereign-faas", stack: "t" });
    const provider = new k8s.Provider("k8s", { kubeconfig: "fake" });
    build(provider);
    await rec.settle();
    return rec;
}

describe("OpenFaas component", () => {
    it("CE: namespaces with jurisdiction labels, basic-auth Secret, pinned release; no licence", async () => {
        let of: OpenFaas | undefined;
        const rec = await record((provider) => {
            of = new OpenFaas("openfaas", { provider, location });
        });
        expect(rec.records.filter((r) => r.parent === "openfaas").map((r) => [r.type, r.name]).sort()).toEqual([
            ["kubernetes:core/v1:Namespace", "openfaas-fn-ns"],
            ["kubernetes:core/v1:Namespace", "openfaas-ns"],
            ["kubernetes:core/v1:Secret", "openfaas-basic-auth"],
            ["kubernetes:helm.sh/v3:Release", "openfaas-release"],
            ["random:index/randomPassword:RandomPassword", "openfaas-admin-password"],
        ]);
        const ns = rec.byName("openfaas-ns").inputs as { metadata: { name: string; labels: Record<string, string> } };
        expect(ns.metadata).toEqual({
            name: "openfaas",
            labels: {
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
                "sovereign-faas.io/jurisdiction": "NO",
                "topology.kubernetes.io/region": "NO-03",
            },
        });
        expect(rec.byName("openfaas-basic-auth").inputs.stringData).toBe("[secret]");
        const release = rec.byName("openfaas-release").inputs;
        expect(release.chart).toBe("openfaas");
        expect(release.version).toBe("15.0.6");
        expect(release.repositoryOpts).toEqual({ repo: "https://openfaas.github.io/faas-netes/" });
        expect(release.namespace).toBe("openfaas");
        expect(release.createNamespace).toBe(false);
        expect(rec.byName("openfaas-release").dependsOn).toEqual(["k8s", "openfaas-basic-auth", "openfaas-fn-ns", "openfaas-ns"]);
        expect(rec.ofType("kubernetes:core/v1:Secret").map((r) => r.name)).toEqual(["openfaas-basic-auth"]);
        expect(await pulumi.isSecret(of!.basicAuthPassword)).toBe(true);
        expect(of!.gatewayUrl).toBe("http://gateway.openfaas:8080");
        expect(of!.asyncUrlPattern).toBe("http://gateway.openfaas:8080/async-function/<name>");
    });

    it("Pro: the licence Secret exists, is secret, and the release waits for it", async () => {
        const rec = await record((provider) => {
            new OpenFaas("openfaas", { provider, location, edition: "pro", license: pulumi.secret("jwt") });
        });
        const lic = rec.byName("openfaas-license").inputs as { metadata: { name: string }; stringData: unknown };
        expect(lic.metadata.name).toBe("openfaas-license");
        expect(lic.stringData).toBe("[secret]");
        expect(rec.byName("openfaas-release").dependsOn).toContain("openfaas-license");
        expect(JSON.stringify(rec.records)).not.toContain("jwt");
    });

    it("Pro without a licence is refused", async () => {
        await record((provider) => {
            expect(() => new OpenFaas("x", { provider, location, edition: "pro" })).toThrow('edition "pro" needs the licence');
        });
    });

    it("generates the admin password the same way on every evaluation (no diff on up)", async () => {
        const runs: unknown[] = [];
        for (let i = 0; i < 2; i++) {
            const rec = await record((provider) => {
                new OpenFaas("openfaas", { provider, location });
            });
            runs.push([rec.byName("openfaas-admin-password").inputs, rec.byName("openfaas-basic-auth").inputs]);
        }
        expect(runs[0]).toEqual(runs[1]);
        expect((runs[0] as Array<Record<string, unknown>>)[0]).toEqual({ length: 32, special: false });
    });
});

describe("AsyncQueues component", () => {
    it("Pro: one queue-worker release per named queue and one nats-connector for the topics", async () => {
        const rec = await record((provider) => {
            new AsyncQueues("queues", {
                provider,
                location,
                edition: "pro",
                queues: [
                    { name: "slow-queue", maxInflight: 2, timeoutSeconds: 900 },
                    { name: "fast", maxInflight: 50, timeoutSeconds: 30 },
                ],
                topics: ["image-upload", "image-upload"],
            });
        });
        const releases = rec.ofType("kubernetes:helm.sh/v3:Release");
        expect(releases.map((r) => [r.name, r.inputs.chart, r.inputs.version, r.inputs.name]).sort()).toEqual([
            ["queues-fast", "queue-worker", "0.2.31", "fast-queue-worker"],
            ["queues-nats-connector", "nats-connector", "0.3.2", "nats-connector"],
            ["queues-slow-queue", "queue-worker", "0.2.31", "slow-queue-queue-worker"],
        ]);
        expect((rec.byName("queues-nats-connector").inputs.values as Record<string, unknown>).topics).toBe("image-upload");
    });

    it("CE: no extra releases without topics, and no named queues", async () => {
        const rec = await record((provider) => {
            new AsyncQueues("queues", { provider, location });
            expect(() => new AsyncQueues("q2", { provider, location, queues: [{ name: "a", maxInflight: 1, timeoutSeconds: 1 }] })).toThrow("named queues need OpenFaaS Pro");
        });
        expect(rec.ofType("kubernetes:helm.sh/v3:Release")).toEqual([]);
    });
});
