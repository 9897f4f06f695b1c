import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { planStack, planWithConfig, prodConfig, REPO_ROOT } from "../helpers/plan";
import { RULES } from "../../policies/rules";

describe("npm run plan: policies and the sovereignty report", () => {
    const prod = planStack("prod");

    it("prod: exit 0, no mandatory violations, policy.json and the report written", () => {
        expect(prod.status).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(prod.outDir, "policy.json"), "utf8"))).toEqual([]);
        expect(fs.existsSync(path.join(prod.outDir, "sovereignty-report.md"))).toBe(true);
    });

    it("the report says where personal data lives and what stops it leaving", () => {
        const md = fs.readFileSync(path.join(prod.outDir, "sovereignty-report.md"), "utf8");
        const json = JSON.parse(fs.readFileSync(path.join(prod.outDir, "sovereignty-report.json"), "utf8"));
        expect(json.hosts).toEqual([{ host: "192.0.2.10", country: "NO", region: "NO-03", site: "Oslo", provider: "Example VPS AS" }]);
        expect(json.dataResources).toEqual(
            expect.arrayContaining([
                { kind: "sovereign volume (host directory)", name: "user-profiles", host: "192.0.2.10", country: "NO", region: "NO-03", path: "/data/sovereign/user-profiles", detail: "owner uid 10000, mode 0700" },
                expect.objectContaining({ kind: "function with a sovereign volume", name: "functions-user-profile", path: "/data/sovereign/user-profiles" }),
                expect.objectContaining({ kind: "named queue (JetStream stream)", name: "slow-queue" }),
                expect.objectContaining({ kind: "Kubernetes Secret", name: "openfaas-fn/payment-api-key", detail: "type Opaque; encrypted at rest by K3s secrets-encryption; values not shown" }),
            ]),
        );
        expect(json.firewall).toEqual(expect.arrayContaining(["type filter hook input priority filter; policy drop;", "tcp dport { 80, 443 } accept", "set ssh_v4: 198.51.100.0/24"]));
        expect(json.kernel["vm.panic_on_oom"]).toBe("0");
        expect(json.kernel["net.core.somaxconn"]).toBe("8192");
        expect(json.versions).toEqual(expect.arrayContaining([{ component: "K3s", version: "v1.33.5+k3s1", source: "get.k3s.io installer (or the staged air-gap binary), pinned" }]));
        expect(json.tls).toEqual({ mode: "acme (cert-manager, Let's Encrypt HTTP-01)" });
        expect(json.cluster).toEqual({
            version: "v1.33.5+k3s1",
            datastore: "SQLite (kine) in /var/lib/rancher/k3s/server/db/state.db on 192.0.2.10 (NO)",
            snapshots: "none: K3s takes no snapshots of SQLite (copies are the backups' job)",
            secretsEncryption: true,
            dataDir: "/var/lib/rancher/k3s",
        });
        expect(json.meta).toEqual(expect.objectContaining({ stack: "prod", library: expect.stringMatching(/^sovereign-faas \d+\.\d+\.\d+$/), configHash: expect.stringMatching(/^[0-9a-f]{64}$/), production: { production: true, why: "the stack is named prod" } }));
        expect(Date.parse(json.meta.generatedAt)).not.toBeNaN();
        expect(json.images).toEqual(expect.arrayContaining([{ image: "ghcr.io/example-no/user-profile:1.0.0", registry: "ghcr.io", usedBy: "functions-user-profile" }]));
        expect(json.policies.rules).toHaveLength(RULES.length);
        expect(md).toContain("## Where the data lives");
        expect(md).toContain("| sovereign volume (host directory) | user-profiles | 192.0.2.10 | NO | NO-03 | /data/sovereign/user-profiles |");
        expect(md).toContain("**Policy verdicts.** All policies pass.");
        expect(md).not.toContain("placeholder");
    });

    it("a host in Germany (allowed by the program's config) fails the pack: exit 1, naming the rule and resource", () => {
        const r = planWithConfig({
            ...prodConfig(),
            "sovereign-faas:allowedCountries": ["NO", "DE"],
            "sovereign-faas:location": { country: "DE", region: "DE-BE" },
        });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('[host-in-allowed-country] command:remote:Command k3s-install: Host of k3s-install must be in an allowed country (NO); it declares "DE".');
        expect(r.stderr).toContain("[sovereign-node-labels] command:remote:Command k3s-install");
        const policy = JSON.parse(fs.readFileSync(path.join(r.outDir, "policy.json"), "utf8"));
        expect(policy.filter((p: any) => p.policy === "host-in-allowed-country").length).toBeGreaterThanOrEqual(6);
        expect(fs.existsSync(path.join(r.outDir, "sovereignty-report.md"))).toBe(true);
    });

    it("an S3 endpoint in a function's environment fails: exit 1, naming the rule", () => {
        // Inside the project, by a relative path: the stack file is confined to the project.
        const dir = fs.mkdtempSync(path.join(REPO_ROOT, "tests", "policies", ".tmp-s3-"));
        const file = path.relative(REPO_ROOT, path.join(dir, "stack.yml"));
        fs.writeFileSync(
            path.join(REPO_ROOT, file),
            "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  user-profile:\n    image: x/p:1\n    environment:\n      BUCKET: https://s3.eu-central-1.amazonaws.com/profiles\n",
        );
        const r = planWithConfig({ ...prodConfig(), "sovereign-faas:functions": file, "sovereign-faas:functionSecrets": {} });
        fs.rmSync(dir, { recursive: true, force: true });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
            "[no-foreign-data-endpoints] kubernetes:apps/v1:Deployment functions-user-profile: functions-user-profile must not send data outside the allowed jurisdiction: env BUCKET of container user-profile points at s3.eu-central-1.amazonaws.com is foreign storage (amazonaws.com).",
        );
    });

    it("a policy pack config can lower a rule to advisory: exit 0, the finding still recorded", () => {
        const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-pc-")), "policy-config.json");
        fs.writeFileSync(cfg, JSON.stringify({ "host-in-allowed-country": "advisory", "sovereign-node-labels": "advisory", "sovereign-workloads-pinned": "advisory", "no-pinning-abroad": "advisory" }));
        const r = planWithConfig(
            { ...prodConfig(), "sovereign-faas:allowedCountries": ["NO", "DE"], "sovereign-faas:location": { country: "DE", region: "DE-BE" } },
            {},
            ["--policy-pack-config", cfg],
        );
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const policy = JSON.parse(fs.readFileSync(path.join(r.outDir, "policy.json"), "utf8"));
        expect(policy.length).toBeGreaterThan(0);
        expect(policy.every((p: any) => p.enforcementLevel === "advisory")).toBe(true);
    });
});
