/**
 * Generates benchmark stacks: a faas-cli stack.yml with N functions (Pro edition; env, labels,
 * limits, a topic on every 5th, a sovereign volume on every 10th) and its Pulumi stack config.
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

export function functionName(i: number): string {
    return `fn-${String(i).padStart(4, "0")}`;
}

export function renderBenchStackYml(n: number): string {
    const functions: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
        functions[functionName(i)] = {
            lang: "golang-middleware",
            handler: `./${functionName(i)}`,
            image: `ghcr.io/example-no/${functionName(i)}:1.${i}.0`,
            environment: { LOG_LEVEL: "info", UPSTREAM_URL: `https://api${i % 7}.example.no/v1`, write_timeout: "60s", read_timeout: "60s" },
            labels: { "com.openfaas.scale.min": "1", "com.openfaas.scale.max": "10", team: `team-${i % 12}` },
            ...(i % 5 === 0 ? { annotations: { topic: `events.topic-${i % 20}` } } : {}),
            limits: { memory: "128Mi", cpu: "250m" },
            requests: { memory: "64Mi", cpu: "25m" },
        };
    }
    return yaml.dump({ version: "1.0", provider: { name: "openfaas", gateway: "http://127.0.0.1:8080" }, functions }, { lineWidth: -1 });
}

/** Writes bench/out/<n>/stack.yml and Pulumi.bench-<n>.yaml (repo root); returns the stack name. */
export function writeBenchStack(repoRoot: string, n: number): string {
    const dir = path.join(repoRoot, "bench", "out", String(n));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "stack.yml"), renderBenchStackYml(n));
    const withVolume = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 === 0).map(functionName);
    const config = {
        "sovereign-faas:host": "192.0.2.10",
        "sovereign-faas:sshPrivateKey": { secure: "AAABAGJlbmNo" },
        "sovereign-faas:location": { country: "NO", region: "NO-03" },
        "sovereign-faas:firewall": { sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.0/24"] },
        "sovereign-faas:domain": "functions.example.no",
        "sovereign-faas:openfaas": { edition: "pro", licenseSecret: { secure: "AAABAGxpYw==" }, scaleToZero: { enabled: true } },
        "sovereign-faas:functions": path.relative(repoRoot, path.join(dir, "stack.yml")),
        "sovereign-faas:volumes": withVolume.length > 0 ? [{ name: "bench-data", hostPath: "/data/sovereign/bench", mountPath: "/data/bench", functions: withVolume }] : [],
    };
    const stack = `bench-${n}`;
    fs.writeFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), yaml.dump({ config }));
    return stack;
}
