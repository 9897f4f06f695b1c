import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { NginxEdge, renderControllerValues, renderGatewayIngresses, renderSystemAllowPolicy, ValidationError } from "../../components";
import { parseStackConfig, RawConfig } from "../../program/config";
import { Recorder } from "../../program/plan/recorder";
import { planStack, planWithConfig, prodConfig } from "../helpers/plan";

const location = { country: "NO", region: "NO-03" };
const opts = {
    domain: "functions.example.no",
    tlsSecretName: "gateway-tls",
    timeoutSeconds: 300,
    maxBodySize: "50m",
    buffers: { number: 8, size: "16k" },
    bufferSize: "32k",
    rateLimit: { rate: "10r/s", burst: 20, noDelay: true },
    systemAllowFrom: ["198.51.100.0/24"],
};

describe("gateway Ingresses", () => {
    const [master, functions, system] = renderGatewayIngresses(opts) as any[];

    it("master: TLS on the domain, HTTPS redirect and HSTS, nothing routed", () => {
        expect(master.metadata.annotations).toEqual({
            "nginx.org/client-max-body-size": "50m",
            "nginx.org/hsts": "true",
            "nginx.org/hsts-include-subdomains": "false",
            "nginx.org/hsts-max-age": "31536000",
            "nginx.org/mergeable-ingress-type": "master",
            "nginx.org/ssl-redirect": "true",
        });
        expect(master.spec).toEqual({
            ingressClassName: "nginx",
            tls: [{ hosts: ["functions.example.no"], secretName: "gateway-tls" }],
            rules: [{ host: "functions.example.no" }],
        });
        expect(master.metadata.namespace).toBe("openfaas");
    });

    it("function paths: long timeouts, 50m bodies, buffers and the rate limit", () => {
        expect(functions.metadata.annotations).toEqual({
            "nginx.org/client-max-body-size": "50m",
            "nginx.org/limit-req-burst": "20",
            "nginx.org/limit-req-key": "${binary_remote_addr}",
            "nginx.org/limit-req-no-delay": "true",
            "nginx.org/limit-req-rate": "10r/s",
            "nginx.org/limit-req-reject-code": "429",
            "nginx.org/mergeable-ingress-type": "minion",
            "nginx.org/proxy-buffer-size": "32k",
            "nginx.org/proxy-buffering": "true",
            "nginx.org/proxy-buffers": "8 16k",
            "nginx.org/proxy-connect-timeout": "60s",
            "nginx.org/proxy-read-timeout": "300s",
            "nginx.org/proxy-send-timeout": "300s",
        });
        expect(functions.spec.rules[0].http.paths.map((p: any) => [p.path, p.backend.service.name, p.backend.service.port.number])).toEqual([
            ["/function/", "gateway", 8080],
            ["/async-function/", "gateway", 8080],
        ]);
    });

    it("admin paths carry the allow-list Policy, and only when one is set", () => {
        expect(system.metadata.annotations["nginx.org/policies"]).toBe("gateway-system-allow");
        expect(system.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(["/system/", "/ui/"]);
        expect(functions.metadata.annotations["nginx.org/policies"]).toBeUndefined();
        const open = renderGatewayIngresses({ ...opts, systemAllowFrom: [] }) as any[];
        expect(open[2].metadata.annotations["nginx.org/policies"]).toBeUndefined();
        expect(renderSystemAllowPolicy(["198.51.100.0/24", "2001:db8::/32"])).toEqual({
            apiVersion: "k8s.nginx.org/v1",
            kind: "Policy",
            metadata: { name: "gateway-system-allow", namespace: "openfaas" },
            spec: { accessControl: { allow: ["198.51.100.0/24", "2001:db8::/32"] } },
        });
    });
});

describe("controller values", () => {
    it("F5 chart: a DaemonSet on the host's ports 80/443, stop-first, no Service, status from the host's address", () => {
        expect(renderControllerValues({ ingressClass: "nginx", nodeSelector: { a: "b" }, statusAddress: "192.0.2.10" })).toEqual({
            controller: {
                config: { entries: { "external-status-address": "192.0.2.10", "server-tokens": "false", "ssl-protocols": "TLSv1.2 TLSv1.3" } },
                enableCustomResources: true,
                enableSnippets: false,
                hostPort: { enable: true, http: 80, https: 443 },
                ingressClass: { create: true, name: "nginx", setAsDefaultIngress: false },
                kind: "daemonset",
                nodeSelector: { a: "b" },
                podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
                reportIngressStatus: { enable: true },
                resources: { requests: { cpu: "100m", memory: "128Mi" } },
                service: { create: false },
                strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: "RollingUpdate" },
                telemetryReporting: { enable: false },
            },
            prometheus: { create: true },
        });
    });
});

describe("NginxEdge TLS modes", () => {
    async function record(tls: any): Promise<{ rec: Recorder; edge: NginxEdge }> {
        const rec = await Recorder.start({ project: "sovereign-faas", stack: "t" });
        const provider = new k8s.Provider("k8s", { kubeconfig: "fake" });
        const edge = new NginxEdge("edge", { provider, location, host: "192.0.2.10", domain: "functions.example.no", tls, timeoutSeconds: 310 });
        await rec.settle();
        return { rec, edge };
    }

    it("labels the controller's namespace privileged, as its hostPorts need, and cert-manager's baseline", async () => {
        const { rec } = await record({ mode: "acme", email: "ops@example.no" });
        expect((rec.byName("edge-ns").inputs as any).metadata.labels).toEqual({
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
            "sovereign-faas.io/jurisdiction": "NO",
            "topology.kubernetes.io/region": "NO-03",
        });
        expect((rec.byName("edge-cert-manager-ns").inputs as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    });

    it("self-signed: key and certificate from @pulumi/tls in a kubernetes.io/tls Secret, key secret", async () => {
        const { rec, edge } = await record({ mode: "self-signed" });
        expect(rec.byName("edge-tls-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect(rec.byName("edge-tls-cert").inputs.privateKeyPem).toBe("[secret]");
        expect(rec.byName("edge-tls-cert").inputs.dnsNames).toEqual(["functions.example.no"]);
        const secret = rec.byName("edge-tls").inputs as any;
        expect(secret.type).toBe("kubernetes.io/tls");
        expect(secret.metadata.name).toBe("gateway-tls");
        expect(secret.stringData).toBe("[secret]");
        expect(edge.url).toBe("https://functions.example.no/");
        expect(edge.certificateValidityEnd).toBeDefined();
        expect(rec.ofType("kubernetes:networking.k8s.io/v1:Ingress").map((r) => r.name).sort()).toEqual(["edge-gateway", "edge-gateway-functions", "edge-gateway-system"]);
        expect(rec.byName("edge-gateway").dependsOn).toEqual(["edge-controller", "edge-tls", "k8s"]);
    });

    it("provided: the key stays secret", async () => {
        const { rec } = await record({ mode: "provided", certificate: "-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----", privateKey: pulumi.secret("KEYDATA") });
        expect(rec.byName("edge-tls").inputs.stringData).toBe("[secret]");
        expect(JSON.stringify(rec.records)).not.toContain("KEYDATA");
        expect(rec.ofType("tls:index/privateKey:PrivateKey")).toEqual([]);
    });

    it("acme: cert-manager release and a Let's Encrypt ClusterIssuer solving HTTP-01 through nginx", async () => {
        const { rec } = await record({ mode: "acme", email: "ops@example.no" });
        const cm = rec.byName("edge-cert-manager").inputs as any;
        expect([cm.chart, cm.version, cm.repositoryOpts.repo, cm.values.crds.enabled]).toEqual(["cert-manager", "v1.21.1", "https://charts.jetstack.io", true]);
        const issuer = rec.byName("edge-issuer").inputs as any;
        expect(issuer.spec.acme).toEqual({
            email: "ops@example.no",
            server: "https://acme-v02.api.letsencrypt.org/directory",
            privateKeySecretRef: { name: "letsencrypt-account-key" },
            solvers: [
                {
                    http01: {
                        ingress: {
                            ingressClassName: "nginx",
                            serviceType: "ClusterIP",
                            ingressTemplate: { metadata: { annotations: { "nginx.org/mergeable-ingress-type": "minion" } } },
                        },
                    },
                },
            ],
        });
        const cert = rec.byName("edge-certificate").inputs as any;
        expect(cert.metadata.annotations).toEqual({ "cert-manager.io/issue-temporary-certificate": "true" });
        expect(cert.spec).toEqual({ secretName: "gateway-tls", dnsNames: ["functions.example.no"], issuerRef: { kind: "ClusterIssuer", name: "letsencrypt" } });
        expect(rec.byName("edge-gateway").dependsOn).toContain("edge-certificate");
    });
});

describe("edge config", () => {
    const base: RawConfig = {
        host: "192.0.2.10",
        location: JSON.stringify({ country: "NO", region: "NO-03" }),
        functions: "tests/fixtures/minimal-stack.yml",
        domain: "functions.example.no",
        sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n",
        firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }),
    };
    const problems = (raw: RawConfig): string[] => {
        try {
            parseStackConfig({ ...base, ...raw });
            return [];
        } catch (err) {
            return (err as ValidationError).problems.map((p) => `${p.key} | ${p.rule}`);
        }
    };

    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "t");
    });

    it("defaults: self-signed, a timeout past the gateway's write timeout, 50m, 8 x 16k / 32k, 10r/s burst 20 nodelay, open /system", () => {
        expect(parseStackConfig(base).ingress).toEqual({
            domain: "functions.example.no",
            tls: { mode: "self-signed" },
            // gateway 300s, its write timeout 305s, NGINX 310s.
            timeoutSeconds: 310,
            maxBodySize: "50m",
            buffers: { number: 8, size: "16k" },
            bufferSize: "32k",
            rateLimit: { rate: "10r/s", burst: 20, noDelay: true },
            systemAllowFrom: [],
        });
    });

    it.each<[RawConfig, string]>([
        [{ domain: "not a domain" }, "sovereign-faas:domain | must be a fully qualified DNS name (letters, digits, '-', dot-separated)"],
        [{ tls: JSON.stringify({ mode: "acme" }) }, "sovereign-faas:tls.email | acme needs a contact e-mail for Let's Encrypt (expiry and revocation notices)"],
        [{ tls: JSON.stringify({ mode: "provided", certificate: "-----BEGIN CERTIFICATE-----x" }) }, "sovereign-faas:tls.key | provided mode needs the certificate's private key, as a secret"],
        [{ ingress: JSON.stringify({ rateLimit: { rate: "0r/s" } }) }, "sovereign-faas:ingress.rateLimit.rate | must be a positive rate like 10r/s or 600r/m (zero would refuse every request)"],
        ...["60s", "300s", "305s"].map((timeout): [RawConfig, string] => [
            { ingress: JSON.stringify({ timeout }) },
            "sovereign-faas:ingress.timeout | must be longer than the gateway's write timeout (305s: the gateway timeout 300s plus 5s): otherwise NGINX answers 504 while the gateway is still answering (openfaas/faas#1016, #1196)",
        ]),
    ])("%j -> %s", (raw, expected) => {
        expect(problems(raw)).toEqual([expected]);
    });
});

describe("prod plan: the edge", () => {
    const prod = planStack("prod");
    const resources = prod.resources();

    it("shows the controller release and the gateway Ingress with TLS, timeouts, body size and rate limit", () => {
        const controller = resources.find((r) => r.name === "edge-controller")?.inputs as any;
        expect([controller.chart, controller.version]).toEqual(["oci://ghcr.io/nginx/charts/nginx-ingress", "2.6.4"]);
        expect(resources.find((r) => r.name === "edge-system-allow")?.inputs).toEqual(
            expect.objectContaining({ kind: "Policy", spec: { accessControl: { allow: ["198.51.100.0/24"] } } }),
        );
        const master = resources.find((r) => r.name === "edge-gateway")?.inputs as any;
        expect(master.spec.tls).toEqual([{ hosts: ["functions.example.no"], secretName: "gateway-tls" }]);
        const fn = resources.find((r) => r.name === "edge-gateway-functions")?.inputs as any;
        // The gateway of prod times out at 300s and writes until 305s; NGINX waits longer.
        expect(fn.metadata.annotations["nginx.org/proxy-read-timeout"]).toBe("310s");
        expect(fn.metadata.annotations["nginx.org/proxy-send-timeout"]).toBe("310s");
        expect(fn.metadata.annotations["nginx.org/client-max-body-size"]).toBe("50m");
        expect(fn.metadata.annotations["nginx.org/limit-req-rate"]).toBe("10r/s");
    });

    it("exposes nothing through a Service: no NodePort, no LoadBalancer (ServiceLB is off), only the edge's host ports", () => {
        const exposed: string[] = [];
        const walk = (v: any, where: string): void => {
            if (v && typeof v === "object") {
                if ((v.type === "NodePort" || v.type === "LoadBalancer") && typeof v.type === "string") {
                    exposed.push(where);
                }
                for (const [k, child] of Object.entries(v)) {
                    walk(child, `${where}.${k}`);
                }
            }
        };
        for (const r of resources) {
            walk(r.inputs, r.name);
        }
        expect(exposed).toEqual([]);
        const controller = resources.find((r) => r.name === "edge-controller")?.inputs as any;
        expect(controller.values.controller.service).toEqual({ create: false });
        expect(controller.values.controller.hostPort).toEqual({ enable: true, http: 80, https: 443 });
        const gateway = resources.find((r) => r.name === "openfaas-release")?.inputs as any;
        expect(gateway.values.exposeServices).toBe(false);
    });

    it("an ingress timeout that does not outlast the gateway's exits 2 with the explanation", () => {
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:ingress": { timeout: "5m" } });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("sovereign-faas:ingress.timeout: \"5m\" is invalid: must be longer than the gateway's write timeout (305s");
    });
});
