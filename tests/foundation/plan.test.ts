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

    it("writes one {type, name, parent, inputs, dependsOn} object per resource", () => {
        const resources = prod.resources();
        expect(resources.length).toBeGreaterThanOrEqual(12);
        for (const r of resources) {
            expect(Object.keys(r)).toEqual(["type", "name", "parent", "inputs", "dependsOn"]);
        }
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
