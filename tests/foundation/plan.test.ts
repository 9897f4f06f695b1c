import * as fs from "fs";
import * as path from "path";

import { planStack, planWithConfig, prodConfig } from "../helpers/plan";

describe("npm run plan (offline, under mocks)", () => {
    const prod = planStack("prod");

    it("plans the prod stack and exits 0", () => {
        expect(prod.stderr).toBe("");
        expect(prod.status).toBe(0);
        expect(prod.stdout).toMatch(/^plan for stack prod: \d+ resources, 0 advisory policy finding\(s\) -> /);
    });

    it("writes one {type, name, parent, inputs, dependsOn, urn, options} object per resource", () => {
        const resources = prod.resources();
        expect(resources.length).toBeGreaterThanOrEqual(12);
        for (const r of resources) {
            expect(Object.keys(r)).toEqual(["type", "name", "parent", "inputs", "dependsOn", "urn", "options"]);
            expect(Object.keys((r as any).options)).toEqual(["additionalSecretOutputs", "aliases", "deleteBeforeReplace", "ignoreChanges", "protect", "provider", "replaceOnChanges", "retainOnDelete"]);
        }
    });

    it("records the options the SDKs inject, and the URNs the engine computes", () => {
        const probe = prod.resources().find((r) => r.name === "host-probe") as any;
        // @pulumi/command adds these to every remote Command (node_modules/@pulumi/command/remote/command.js).
        expect(probe.options.replaceOnChanges).toEqual(["triggers[*]"]);
        expect(probe.options.additionalSecretOutputs).toEqual(["connection"]);
        expect(probe.urn).toBe("urn:pulumi:prod::sovereign-faas::sovereign-faas:host:SshConnection$command:remote:Command::host-probe");
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
        expect(r.stderr).toContain('sovereign-faas:host: "not an ip!" is invalid: must be an IPv4 address, an IPv6 address or a DNS name');
        expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it("exits 2 for a stack that does not exist", () => {
        const r = planStack("no-such-stack");
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/Pulumi\.no-such-stack\.yaml not found/);
    });
});
