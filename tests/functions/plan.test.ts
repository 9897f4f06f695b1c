import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { planWithConfig, prodConfig, REPO_ROOT } from "../helpers/plan";
import { readStackConfig } from "../helpers/stack";

type Res = ReturnType<ReturnType<typeof planWithConfig>["resources"]>[number];
const values = (r: Res | undefined): Record<string, any> => (r?.inputs.values ?? {}) as Record<string, any>;

// The example stack.yml substitutes PAYMENT_PROVIDER_URL; substituteEnv must allow it (its
// default allows nothing). Spread after the stack's own config, so this holds whether or not the
// example stacks list it themselves.
const ALLOW_EXAMPLE = { "sovereign-faas:substituteEnv": ["PAYMENT_PROVIDER_URL"] };
const devConfig = (): Record<string, unknown> => readStackConfig(path.join(REPO_ROOT, "Pulumi.dev.yaml"));
const fixture = (name: string): string => path.posix.join("tests", "functions", "fixtures", "plan", name);

describe("plan: OpenFaaS, queues and functions", () => {
    const prod = planWithConfig({ ...prodConfig(), ...ALLOW_EXAMPLE });
    const dev = planWithConfig({ ...devConfig(), ...ALLOW_EXAMPLE });

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
        const file = fixture("bad-stack.yml");
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:functions": file, "sovereign-faas:volumes": [] });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`${file}: functions.Bad_Name: "Bad_Name" is invalid: a function name must be DNS-1123`);
        expect(r.stderr).toContain(`${file}: functions.ok.environment_file[0]: "missing.yml" is invalid: file not found`);
        expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it("the example stack.yml without PAYMENT_PROVIDER_URL in substituteEnv exits 2 and says how to allow it", () => {
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:substituteEnv": [] }, { PAYMENT_PROVIDER_URL: "https://leak.example.com/S3CRET" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('stack.yml line 57, column 29: "${PAYMENT_PROVIDER_URL}" is invalid: substitutes a variable that sovereign-faas:substituteEnv does not allow');
        expect(r.stderr).toContain("Fix: add PAYMENT_PROVIDER_URL to sovereign-faas:substituteEnv");
        expect(r.stderr).not.toContain("S3CRET");
    });

    it("a credential substituted from the environment exits 2 without printing it, even when allowed", () => {
        const r = planWithConfig(
            { ...prodConfig(), "sovereign-faas:functions": fixture("credential-stack.yml"), "sovereign-faas:substituteEnv": ["FN_*", "AWS_SECRET_ACCESS_KEY"], "sovereign-faas:volumes": [], "sovereign-faas:functionSecrets": {} },
            { AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-S3CRET", FN_GREETING: "hei" },
        );
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('sovereign-faas:substituteEnv[1]: "AWS_SECRET_ACCESS_KEY" is invalid: names credentials');
        expect(r.stderr).toContain('credential-stack.yml line 9, column 18: "${AWS_SECRET_ACCESS_KEY}" is invalid: substitutes a credential-like variable');
        expect(r.stderr).toContain("Fix: use sovereign-faas:functionSecrets");
        expect(r.stderr).not.toContain("wJalrXUtnFEMI");
    });

    it("substitutes what substituteEnv allows into the Deployment", () => {
        const r = planWithConfig(
            { ...prodConfig(), "sovereign-faas:functions": fixture("allowed-stack.yml"), "sovereign-faas:substituteEnv": ["FN_*"], "sovereign-faas:volumes": [], "sovereign-faas:functionSecrets": {} },
            { FN_GREETING: "hei", FN_TAG: "2.0.1", HOME_SECRET_TOKEN: "never-read" },
        );
        expect(r.status).toBe(0);
        const d = r.resources().find((x) => x.type === "kubernetes:apps/v1:Deployment" && x.name === "functions-user-profile") as Res;
        const c = (d.inputs as any).spec.template.spec.containers[0];
        expect(c.image).toBe("ghcr.io/example-no/user-profile:2.0.1");
        expect(c.env).toEqual([{ name: "GREETING", value: "hei" }]);
    });

    it("a stack file outside the project exits 2", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-stack-"));
        const file = path.join(dir, "stack.yml");
        fs.writeFileSync(file, "version: 1.0\nprovider:\n  name: openfaas\n");
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:functions": file, "sovereign-faas:volumes": [] });
        fs.rmSync(dir, { recursive: true, force: true });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`sovereign-faas:functions: ${JSON.stringify(file)} is invalid: must be a path relative to the project directory`);
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
