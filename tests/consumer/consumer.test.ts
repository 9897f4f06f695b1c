/**
 * The library as a package: `npm pack` builds it (prepare), a stack outside the repository
 * installs the tarball the way a user would, type-checks against it, and plans the whole platform
 * offline through the package's own `sovereign-faas-plan`, which sets its mocks on the
 * consumer's own @pulumi/pulumi.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { RULES } from "../../policies/rules";
import { REPO_ROOT } from "../helpers/plan";
import { PASSPHRASE_ENV } from "../helpers/stack";

jest.setTimeout(600_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-consumer-"));
const consumer = path.join(work, "consumer");
let tarball = "";
let packed: string[] = [];

function npm(args: string[], cwd: string): string {
    return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" } });
}

beforeAll(() => {
    const out = JSON.parse(npm(["pack", "--json", "--pack-destination", work], REPO_ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, out[0].filename);
    packed = out[0].files.map((f) => f.path);
    fs.cpSync(path.join(REPO_ROOT, "examples", "consumer"), consumer, { recursive: true, filter: (src) => !/\/(node_modules|out)(\/|$)/.test(src) });
    // The example names the published package; here it gets the tarball just packed, as `npm install <tarball>` would record it.
    const pkgFile = path.join(consumer, "package.json");
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
    pkg.dependencies["sovereign-faas"] = `file:${tarball}`;
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    npm(["install", "--prefer-offline"], consumer);
});

afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
});

describe("the package", () => {
    it("packs the built library: components, program and policy rules with their types, and the runner", () => {
        for (const f of ["dist/components/index.js", "dist/components/index.d.ts", "dist/program/index.js", "dist/program/plan/cli.js", "dist/policies/rules/index.js", "package.json", "README.md"]) {
            expect(packed).toContain(f);
        }
        expect(packed.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
        expect(packed.filter((f) => f.startsWith("tests/") || f.startsWith("examples/"))).toEqual([]);
    });

    it("brings one copy of the Pulumi SDK: the consumer's (peer dependencies)", () => {
        expect(fs.existsSync(path.join(consumer, "node_modules", "sovereign-faas", "node_modules", "@pulumi"))).toBe(false);
        const pkg = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", "sovereign-faas", "package.json"), "utf8"));
        expect(Object.keys(pkg.peerDependencies).sort()).toEqual(["@pulumi/command", "@pulumi/kubernetes", "@pulumi/pulumi", "@pulumi/random", "@pulumi/tls"]);
        expect(pkg.dependencies["@pulumi/pulumi"]).toBeUndefined();
    });

    it("type-checks the consumer's program against the installed package", () => {
        const r = spawnSync(path.join(consumer, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", consumer], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    it("plans the whole platform offline with the package's own runner", () => {
        const out = path.join(work, "plan");
        const r = spawnSync(path.join(consumer, "node_modules", ".bin", "sovereign-faas-plan"), ["--dir", consumer, "--stack", "ci", "--out", out], {
            cwd: consumer,
            encoding: "utf8",
            env: { ...process.env, ...PASSPHRASE_ENV },
        });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^plan for stack ci: planned; \\d+ resources, 0 mandatory violation\\(s\\), 0 advisory finding\\(s\\), 0 warning\\(s\\), ${RULES.length} rule\\(s\\) passed -> `));
        const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as Array<{ type: string; name: string; parent: string | null; inputs: any }>;
        expect(resources.find((x) => x.type === "sovereign-faas:platform:SovereignFaasPlatform")?.name).toBe("invoicing");
        expect(resources.filter((x) => x.type === "kubernetes:apps/v1:Deployment").map((x) => x.name).sort()).toEqual(["functions-invoice-mail", "functions-invoice-pdf"]);
        expect(resources.find((x) => x.name === "k3s-install")?.inputs.create).toContain('# sovereign-faas-location: {"country":"NO","region":"NO-50","site":"Trondheim"}');
        expect(resources.find((x) => x.name === "queues-nats-connector")?.inputs.values).toEqual(expect.objectContaining({ topics: "invoice-ready" }));
        const report = JSON.parse(fs.readFileSync(path.join(out, "sovereignty-report.json"), "utf8"));
        expect(report.meta.library).toBe("sovereign-faas 0.2.0");
    });

    it("answers --help", () => {
        const r = spawnSync(path.join(consumer, "node_modules", ".bin", "sovereign-faas-plan"), ["--help"], { encoding: "utf8" });
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("usage: sovereign-faas-plan --stack <name>");
    });
});
