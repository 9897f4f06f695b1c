import { envsubst, parseStackYml, renderFunctionDeployment, renderFunctionService } from "../../components";

const files: Record<string, string> = {
    "stacks/env/common.yml": "environment:\n  LOG_LEVEL: debug\n  SHARED: from-file\n",
};
const parse = (text: string, env: Record<string, string> = {}, substituteEnv: string[] = []) =>
    parseStackYml(text, { file: "stacks/stack.yml", env, readFile: (p) => files[p], substituteEnv });

const header = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n";

describe("envsubst (faas-cli semantics)", () => {
    it.each([
        ["${A}", { A: "x" }, "x"],
        ["${A}", {}, ""],
        ["${A:-def}", {}, "def"],
        ["${A:-def}", { A: "" }, "def"],
        ["${A=def}", {}, "def"],
        ["${A=def}", { A: "" }, "def"],
        ["$A stays", { A: "x" }, "$A stays"],
        ["${A:=def}", { A: "" }, "def"],
        ["https://${HOST:-api.example.no}/v1?k=${KEY}", { KEY: "k1" }, "https://api.example.no/v1?k=k1"],
    ])("%s with %j -> %s", (text, env, expected) => {
        expect(envsubst(text, env)).toBe(expected);
    });

    // drone/envsubst v1.0.3 has no `-`, `+` or `?` after a name: faas-cli refuses the file.
    it.each(["${A-def}", "${A+def}", "${A?def}"])("%s is a parse error, as upstream", (text) => {
        expect(() => envsubst(text, { A: "" })).toThrow("line 1, column 1: missing closing brace");
    });
});

describe("parseStackYml", () => {
    it("reads every deploy field, with environment_file winning over environment", () => {
        const r = parse(
            header +
                `  resize:
    lang: python3-http
    handler: ./resize
    image: ghcr.io/example-no/resize:\${TAG:-1.0.0}
    fprocess: python index.py
    environment:
      SHARED: inline
      URL: https://\${API_HOST}/x
    environment_file:
      - env/common.yml
    secrets: [api-key]
    labels: { com.openfaas.scale.min: 2 }
    annotations: { topic: image-upload }
    limits: { memory: 128m, cpu: 500m }
    requests: { memory: 64Mi, cpu: 0.1 }
    readonly_root_filesystem: true
    constraints: ["topology.kubernetes.io/region == NO-03"]
    namespace: openfaas-fn
    build_args: { X: y }
`,
            { API_HOST: "api.example.no" },
            ["TAG", "API_HOST"],
        );
        expect(r.problems).toEqual([]);
        expect(r.warnings).toEqual([
            'stacks/stack.yml: functions.resize.limits.memory: "128m" read as 128Mi (Kubernetes would read 128m as millibytes); write 128Mi',
        ]);
        expect(r.functions).toEqual([
            {
                name: "resize",
                image: "ghcr.io/example-no/resize:1.0.0",
                fprocess: "python index.py",
                environment: { LOG_LEVEL: "debug", SHARED: "from-file", URL: "https://api.example.no/x" },
                secrets: ["api-key"],
                labels: { "com.openfaas.scale.min": "2" },
                annotations: { topic: "image-upload" },
                limits: { memory: "128Mi", cpu: "500m" },
                requests: { memory: "64Mi", cpu: "0.1" },
                readonlyRootFilesystem: true,
                nodeSelector: { "topology.kubernetes.io/region": "NO-03" },
                namespace: "openfaas-fn",
            },
        ]);
    });

    it("warns about unknown keys, naming function and key", () => {
        expect(parse(header + "  a:\n    image: x/a:1\n    replicas: 3\n").warnings).toEqual(["stacks/stack.yml: functions.a.replicas: unknown key, ignored"]);
    });

    const problemKeys = (text: string): string[] => parse(text).problems.map((p) => `${p.key} | ${p.rule}`);

    it("rejects a function name that is not DNS-1123", () => {
        expect(problemKeys(header + "  Image_Resizer:\n    image: x/a:1\n")).toEqual([
            "stacks/stack.yml: functions.Image_Resizer | a function name must be DNS-1123: lower-case letters, digits and '-', starting with a letter (it names the function's Service) and ending with a letter or digit, at most 45 characters (the pod's volume <name>-projected-secrets must stay within 63)",
        ]);
    });

    it("rejects another provider", () => {
        expect(problemKeys("version: 1.0\nprovider:\n  name: aws\nfunctions: {}\n")).toEqual([
            "stacks/stack.yml: provider.name | must be openfaas (this platform runs OpenFaaS, not another provider)",
        ]);
    });

    it("reports a YAML syntax error with its line", () => {
        const r = parse(header + "  a:\n    image: x/a:1\n   bad: [\n");
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].key).toBe("stacks/stack.yml line 7, column 4");
        expect(r.problems[0].rule).toBe("is not valid YAML: bad indentation of a mapping entry");
        expect(r.problems[0].value).toBe("[text not shown]");
    });

    it("reports a missing environment_file", () => {
        expect(problemKeys(header + "  a:\n    image: x/a:1\n    environment_file: [nope.yml]\n")).toEqual([
            "stacks/stack.yml: functions.a.environment_file[0] | file not found (looked for stacks/nope.yml, relative to the stack file)",
        ]);
    });

    it("requires an image and valid quantities, all at once", () => {
        expect(problemKeys(header + "  a:\n    limits: { memory: lots }\n  b:\n    image: x/b:1\n    constraints: [\"no operator\"]\n")).toEqual([
            "stacks/stack.yml: functions.a.image | is required: the container image to run",
            "stacks/stack.yml: functions.a.limits.memory | must be a Kubernetes quantity such as 128Mi or 1Gi",
            "stacks/stack.yml: functions.b.constraints[0] | must be `key == value` or `key=value` (a node label)",
        ]);
    });
});

describe("function manifests", () => {
    const fn = parse(header + "  hello:\n    image: ghcr.io/example-no/hello:1.0.0\n").functions[0];
    const location = { country: "NO", region: "NO-03" };

    it("follows faas-netes conventions and hardens the pod", () => {
        expect(renderFunctionDeployment(fn, { extraLabels: {}, volumes: [], location })).toEqual({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { annotations: {}, labels: { faas_function: "hello" }, name: "hello", namespace: "openfaas-fn" },
            spec: {
                replicas: 1,
                selector: { matchLabels: { faas_function: "hello" } },
                template: {
                    metadata: { annotations: {}, labels: { faas_function: "hello" } },
                    spec: {
                        automountServiceAccountToken: false,
                        containers: [
                            {
                                env: [],
                                image: "ghcr.io/example-no/hello:1.0.0",
                                livenessProbe: { failureThreshold: 3, httpGet: { path: "/_/health", port: 8080 }, periodSeconds: 2, timeoutSeconds: 1 },
                                name: "hello",
                                ports: [{ containerPort: 8080, name: "http", protocol: "TCP" }],
                                readinessProbe: { failureThreshold: 3, httpGet: { path: "/_/health", port: 8080 }, periodSeconds: 2, timeoutSeconds: 1 },
                                resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "50m", memory: "64Mi" } },
                                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: false, runAsNonRoot: true },
                            },
                        ],
                        enableServiceLinks: false,
                        securityContext: { fsGroup: 10000, runAsGroup: 10000, runAsNonRoot: true, runAsUser: 10000, seccompProfile: { type: "RuntimeDefault" } },
                    },
                },
            },
        });
        expect(renderFunctionService(fn)).toEqual({
            apiVersion: "v1",
            kind: "Service",
            metadata: { labels: { faas_function: "hello" }, name: "hello", namespace: "openfaas-fn" },
            spec: { ports: [{ name: "http", port: 8080, protocol: "TCP", targetPort: 8080 }], selector: { faas_function: "hello" }, type: "ClusterIP" },
        });
    });

    it("gives a read-only root filesystem a writable /tmp, mounts secrets, and adds scale-to-zero labels", () => {
        const f = parse(header + "  pay:\n    image: x/pay:1\n    readonly_root_filesystem: true\n    secrets: [k]\n    labels: { com.openfaas.scale.min: '3' }\n").functions[0];
        const d = renderFunctionDeployment(f, { extraLabels: { "com.openfaas.scale.zero": "true" }, volumes: [], location }) as Record<string, any>;
        const spec = d.spec.template.spec;
        expect(d.spec.replicas).toBe(3);
        expect(d.metadata.labels).toEqual({ "com.openfaas.scale.min": "3", "com.openfaas.scale.zero": "true", faas_function: "pay" });
        expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
        expect(spec.volumes).toEqual([{ name: "pay-projected-secrets", projected: { sources: [{ secret: { name: "k" } }] } }, { emptyDir: {}, name: "temp" }]);
        expect(spec.containers[0].volumeMounts).toEqual([
            { mountPath: "/var/openfaas/secrets", name: "pay-projected-secrets", readOnly: true },
            { mountPath: "/tmp", name: "temp", readOnly: false },
        ]);
    });

    it("mounts a sovereign volume as an existing Directory, read-only, pinned to the node", () => {
        const vol = { name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", readOnly: true, functions: ["hello"], owner: 10000, requireEncryption: false };
        const d = renderFunctionDeployment(fn, { extraLabels: {}, volumes: [vol], location }) as Record<string, any>;
        const spec = d.spec.template.spec;
        expect(spec.volumes).toEqual([{ hostPath: { path: "/data/sovereign/profiles", type: "Directory" }, name: "profiles" }]);
        expect(spec.containers[0].volumeMounts).toEqual([{ mountPath: "/data/profiles", name: "profiles", readOnly: true }]);
        expect(spec.nodeSelector).toEqual({ "sovereign-faas.io/jurisdiction": "NO", "topology.kubernetes.io/region": "NO-03" });
        expect(d.spec.template.metadata.labels["sovereign-faas.io/sovereign-data"]).toBe("true");
        expect(d.spec.template.metadata.annotations).toEqual({});
        const writable = renderFunctionDeployment(fn, { extraLabels: {}, volumes: [{ ...vol, readOnly: false }], location }) as Record<string, any>;
        expect(writable.spec.template.spec.containers[0].volumeMounts[0].readOnly).toBe(false);
        expect(writable.spec.template.metadata.annotations).toEqual({ "sovereign-faas.io/writable-volumes": "profiles" });
    });
});
