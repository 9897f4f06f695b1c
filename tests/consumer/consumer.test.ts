import { spawnSync } from "child_process";
import * as path from "path";

import { planStack, REPO_ROOT } from "../helpers/plan";

describe("consumer stack (examples/consumer)", () => {
    it("type-checks against the library's public API, imported by package name", () => {
        const r = spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "examples/consumer"], { cwd: REPO_ROOT, encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    it("plans: OpenFaaS and two functions on an existing cluster, no host bootstrap", () => {
        const r = planStack("ci", {}, ["--dir", path.join(REPO_ROOT, "examples", "consumer")]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const resources = r.resources();
        expect(resources.filter((x) => x.type === "command:remote:Command")).toEqual([]);
        expect(resources.filter((x) => x.type === "kubernetes:apps/v1:Deployment").map((x) => x.name).sort()).toEqual(["fns-invoice-mail", "fns-invoice-pdf"]);
        expect(resources.find((x) => x.type === "pulumi:providers:kubernetes")?.inputs.kubeconfig).toBe("[secret]");
        expect(resources.find((x) => x.name === "async-nats-connector")?.inputs.values).toEqual(expect.objectContaining({ topics: "invoice-ready" }));
    });

    it("the library builds to dist with type declarations (what `npm install sovereign-faas` ships)", () => {
        const r = spawnSync(path.join(REPO_ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--noEmit"], { cwd: REPO_ROOT, encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });
});
