import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { planStack, planWithConfig, prodConfig } from "../helpers/plan";

type Res = ReturnType<ReturnType<typeof planStack>["resources"]>[number];
const values = (r: Res | undefined): Record<string, any> => (r?.inputs.values ?? {}) as Record<string, any>;

describe("plan: OpenFaaS, queues and functions", () => {
    const prod = planStack("prod");
    const dev = planStack("dev");

    it("prod (Pro) plans the release, the queue-worker and the nats-connector", () => {
        expect(prod.status).toBe(0);
        const r = prod.resources();
        const releases = r.filter((x) => x.type === "kubernetes:helm.sh/v3:Release").map((x) => [x.name, x.inputs.chart, x.inputs.version]);
        expect(releases.sort()).toEqual([
            ["edge-cert-manager", "cert-manager", "v1.21.1"],
            ["edge-controller", "oci://ghcr.io/nginx/charts/nginx-ingress", "2.6.4"],
            ["openfaas-release", "openfaas", "15.0.6"],
            ["queues-nats-connector", "nats-connector", "0.3.2"],
            ["queues-slow-queue", "queue-worker", "0.2.31"],
        ]);
        const v = values(r.find((x) => x.name === "openfaas-release"));
        expect(v.openfaasPro).toBe(true);
        expect(v.gateway.directFunctions).toBe(true);
        expect(v.generateBasicAuth).toBe(false);
        expect(v.exposeServices).toBe(false);
        expect(v.gateway.upstreamTimeout).toBe("300s");
        expect(v.gateway.readTimeout).toBe("305s");
        expect(values(r.find((x) => x.name === "queues-nats-connector")).topics).toBe("image-upload");
    });

    it("prod applies the scale-to-zero labels to every function", () => {
        for (const d of prod.resources().filter((x) => x.type === "kubernetes:apps/v1:Deployment")) {
            const labels = (d.inputs as any).metadata.labels;
            expect(labels["com.openfaas.scale.zero"]).toBe("true");
            expect(labels["com.openfaas.scale.zero-duration"]).toBe("15m");
        }
    });

    it("dev (CE) plans the CE queue inside the main chart", () => {
        expect(dev.status).toBe(0);
        const r = dev.resources();
        const v = values(r.find((x) => x.name === "openfaas-release"));
        expect(v.openfaasPro).toBe(false);
        expect(v.queueWorker).toEqual({ ackWait: "180s", replicas: 1, resources: { requests: { cpu: "50m", memory: "120Mi" } } });
        expect(r.filter((x) => x.inputs.chart === "queue-worker")).toEqual([]);
        expect(r.filter((x) => x.type === "kubernetes:core/v1:Secret" && x.name === "openfaas-license")).toEqual([]);
    });

    it("keeps the function secret's values and the licence out of the plan", () => {
        const secret = prod.resources().find((x) => x.name === "functions-secret-payment-api-key");
        expect(secret?.inputs.stringData).toBe("[secret]");
        expect(prod.resources().find((x) => x.name === "openfaas-license")?.inputs.stringData).toBe("[secret]");
    });

    it("a CE stack asking for scale to zero exits 2 and says why", () => {
        const config = { ...prodConfig(), "sovereign-faas:openfaas": { edition: "ce", scaleToZero: { enabled: true } } };
        const r = planWithConfig(config);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("sovereign-faas:openfaas.scaleToZero.enabled: true is invalid: scale to zero is the OpenFaaS Pro autoscaler");
    });

    it("bad stack.yml input exits 2 naming the file, the function and the field", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-stack-"));
        const file = path.join(dir, "stack.yml");
        fs.writeFileSync(file, "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  Bad_Name:\n    image: x/y:1\n  ok:\n    image: x/ok:1\n    environment_file: [missing.yml]\n");
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:functions": file, "sovereign-faas:volumes": [] });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`${file}: functions.Bad_Name: "Bad_Name" is invalid: a function name must be DNS-1123`);
        expect(r.stderr).toContain(`${file}: functions.ok.environment_file: "missing.yml" is invalid: file not found`);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a volume under /etc or for an unknown function exits 2", () => {
        const r = planWithConfig({
            ...prodConfig(),
            "sovereign-faas:volumes": [{ name: "x", hostPath: "/etc/x", mountPath: "/data/x", functions: ["ghost"] }],
        });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('sovereign-faas:volumes[0].hostPath: "/etc/x" is invalid');
        expect(r.stderr).toContain('sovereign-faas:volumes[0].functions: "ghost" is invalid: is not a function in the stack.yml');
    });
});
