import * as fs from "fs";
import * as path from "path";

import { RULES } from "../../policies/rules";
import { planStack, planWithConfig, prodConfig } from "../helpers/plan";

describe("npm run plan (offline, under mocks)", () => {
    const prod = planStack("prod");

    it("plans the prod stack and exits 0", () => {
        expect(prod.stderr).toBe("");
        expect(prod.status).toBe(0);
        expect(prod.stdout).toMatch(new RegExp(`^plan for stack prod: planned; \\d+ resources, 0 mandatory violation\\(s\\), 0 advisory finding\\(s\\), 0 warning\\(s\\), ${RULES.length} rule\\(s\\) passed -> /`));
    });

    it("writes one {type, name, parent, inputs, dependsOn, inputDependencies, urn, options} object per resource", () => {
        const resources = prod.resources();
        expect(resources.length).toBeGreaterThanOrEqual(12);
        for (const r of resources) {
            expect(Object.keys(r)).toEqual(["type", "name", "parent", "inputs", "dependsOn", "inputDependencies", "urn", "options"]);
            expect(Object.keys((r as any).options)).toEqual(["additionalSecretOutputs", "aliases", "deleteBeforeReplace", "ignoreChanges", "protect", "provider", "replaceOnChanges", "retainOnDelete"]);
        }
    });

    it("records the options the SDKs inject, and the URNs the engine computes", () => {
        const probe = prod.resources().find((r) => r.name === "host-probe") as any;
        // @pulumi/command adds these to every remote Command (node_modules/@pulumi/command/remote/command.js).
        expect(probe.options.replaceOnChanges).toEqual(["triggers[*]"]);
        expect(probe.options.additionalSecretOutputs).toEqual(["connection"]);
        // The platform component's whole type chain, as the engine builds it (sdk/go/common/resource/urn.go).
        expect(probe.urn).toBe("urn:pulumi:prod::sovereign-faas::sovereign-faas:platform:SovereignFaasPlatform$sovereign-faas:host:SshConnection$command:remote:Command::host-probe");
        const password = prod.resources().find((r) => r.name === "openfaas-admin-password") as any;
        expect(password.options.additionalSecretOutputs).toEqual(["bcryptHash", "result"]);
    });

    it("shows the bootstrap chain: connection, preflight, kernel, firewall, K3s, kubeconfig, provider", () => {
        const byName = new Map(prod.resources().map((r) => [r.name, r]));
        const chain = ["host-probe", "preflight-check", "kernel-apply", "firewall-apply", "k3s-install", "k3s-kubeconfig", "k3s-provider"];
        for (let i = 1; i < chain.length; i++) {
            expect(byName.get(chain[i])?.dependsOn).toContain(chain[i - 1]);
        }
    });

    it("shows every secret as [secret] and leaks no placeholder or key", () => {
        const text = fs.readFileSync(path.join(prod.outDir, "resources.json"), "utf8");
        expect(text).not.toContain("secret placeholder");
        expect(text).not.toContain("PRIVATE KEY-----");
        const provider = prod.resources().find((r) => r.type === "pulumi:providers:kubernetes" && r.name === "k3s-provider");
        expect(provider?.inputs.kubeconfig).toBe("[secret]");
    });

    it("exits 2 naming the key for a host in Sweden", () => {
        const config = { ...prodConfig(), "sovereign-faas:location": { country: "SE", region: "SE-AB" } };
        const r = planWithConfig(config);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('sovereign-faas:location.country: "SE" is invalid');
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(fs.existsSync(path.join(r.outDir, "resources.json"))).toBe(false);
    });

    it("exits 2 naming the key for a host that is not an address", () => {
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:host": "not an ip!" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('sovereign-faas:host: "not an ip!" is invalid: must be an IPv4 address, an IPv6 address or a fully qualified DNS name (with a dot)');
        expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it("exits 2 for a stack that does not exist", () => {
        const r = planStack("no-such-stack");
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/Pulumi\.no-such-stack\.yaml not found/);
    });
});

describe("prod plan: what a real pulumi up needs (the engine review's defects)", () => {
    const prod = planStack("prod");
    const byName = new Map(prod.resources().map((r) => [r.name, r as any]));
    const script = (name: string): string => byName.get(name).inputs.create as string;

    it("derives the preflight's memory floor from the stack's own requests", () => {
        // K3s 1024 + OpenFaaS Pro 1480 (gateway and faas-netes 2 x 240, queue-worker 2 x 120, NATS
        // 120, Prometheus 512, autoscaler 128) + async 184 (slow-queue worker 120, connector 64)
        // + functions 256 (128 + 64 + 64) + the edge 128.
        expect(script("preflight-check")).toContain("\nMIN_MEMORY_MIB=3072\n");
    });

    it("refuses, on the host, to firewall off the machine that runs pulumi up from the API", () => {
        expect(script("firewall-apply")).toContain("\napi_sources=(198.51.100.0/24)\n");
        expect(script("firewall-apply")).toContain('in_sources "$client_ip" "${api_sources[@]}" || fail');
    });

    it("keeps every K3s port out of the ephemeral range and keeps RA default routes", () => {
        expect(script("kernel-apply")).toContain("  net.ipv4.ip_local_reserved_ports 2379-2381,6443-6444,8472,10010,10248-10250,10256-10259,30000-32767 \\\n");
        expect(script("kernel-apply")).toContain("  net.ipv6.conf.default.accept_ra 2 \\\n");
        expect(script("kernel-apply")).not.toContain("net.ipv6.conf.all.forwarding");
    });

    it("turns ServiceLB off: the edge serves the host's ports itself", () => {
        expect(script("k3s-install")).toContain("\ndisable:\n  - servicelb\n  - traefik\n");
    });

    it("leaves spec.replicas of every function to the scalers after creation", () => {
        const deployments = prod.resources().filter((r) => r.type === "kubernetes:apps/v1:Deployment") as any[];
        expect(deployments.length).toBe(3);
        for (const d of deployments) {
            expect(d.options.ignoreChanges).toEqual(["spec.replicas"]);
            expect(d.inputs.spec.replicas).toBeGreaterThanOrEqual(1);
        }
    });
});
