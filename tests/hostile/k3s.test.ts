/**
 * Hostile `k3s.extraArgs` (issue 13, items 1, 9 and the K3s part of 16): flags that move the
 * cluster state abroad, reach managed keys through aliases or pass-through, switch off what the
 * platform relies on, or carry credentials in plain text. Each class has many variants; each is
 * refused with the key named (program and component alike), or judged by the pack.
 */
import * as pulumi from "@pulumi/pulumi";

import { k3sArgsProblems, K3S_FLAG_ALIASES, K3S_SECRET_DROPIN_PATH, REFUSED_K3S_FLAGS, renderK3sConfig, renderK3sInstallScript, renderK3sSecretDropIn, validateK3sClusterArgs, ValidationError } from "../../components";
import { DEFAULT_CONFIG, k3sStateLocal, ResourceView } from "../../policies/rules";
import { parseStackConfig, RawConfig } from "../../program/config";
import { shellcheck } from "../helpers/shell";
import { MINIMAL_CONFIG } from "../helpers/config";

const location = { country: "NO", region: "NO-03" };
const KEY = "sovereign-faas:k3s.extraArgs";

const problems = (args: Record<string, unknown>, secret: string[] = []) => k3sArgsProblems(args, KEY, new Set(secret));

describe("extraArgs keys are real K3s flags, by full name only", () => {
    it.each(Object.entries(K3S_FLAG_ALIASES))("refuses the alias %s (of %s)", (alias, full) => {
        const p = problems({ [alias]: "x" });
        expect(p).toEqual([expect.objectContaining({ key: `${KEY}.${alias}`, rule: expect.stringContaining(`alias of ${full}`) })]);
    });

    it.each(["node-label+", "tls-san+", "kube-apiserver-arg+", "kubelet-arg+", "disable+", "cluster-cidr+"])("refuses the append form %s", (k) => {
        expect(problems({ [k]: ["x"] })[0].rule).toMatch(/`key\+` form/);
    });

    it.each(["--datastore-endpoint", "-d", "--node-label", "---server"])("refuses dashes: %s", (k) => {
        expect(problems({ [k]: "x" })).toHaveLength(1);
    });

    it.each(["datastore", "etcd-s3-endpoints", "nodelabel", "Node-Label", "DATA-DIR", "kube_apiserver_arg", "__proto__", "constructor", "toString", "hasOwnProperty", "", " server"])(
        "refuses %j, which is no flag of k3s server",
        (k) => {
            const p = problems(JSON.parse(`{${JSON.stringify(k)}: "x"}`));
            expect(p).toHaveLength(1);
            expect(p[0].key).toBe(`${KEY}.${k}`);
        },
    );

    it.each(["disable", "node-label", "protect-kernel-defaults", "secrets-encryption", "tls-san", "write-kubeconfig-mode"])("refuses the managed key %s", (k) => {
        expect(problems({ [k]: "x" })[0].rule).toMatch(/managed by sovereign-faas/);
    });

    it.each(Object.keys(REFUSED_K3S_FLAGS))("refuses %s, with the reason", (k) => {
        const p = problems({ [k]: "true" });
        expect(p).toHaveLength(1);
        expect(p[0].rule).toBe(`is refused: it ${REFUSED_K3S_FLAGS[k]}`);
    });

    it.each([
        ["flannel-backend", "none"],
        ["tls-san-security", false],
        ["tls-san-security", "false"],
        ["etcd-s3-skip-ssl-verify", true],
        ["etcd-s3-insecure", "true"],
        ["egress-selector-mode", "disabled"],
    ])("refuses %s: %j", (k, v) => {
        expect(problems({ [k]: v })[0].rule).toMatch(/is refused/);
    });

    it.each([
        ["flannel-backend", "ipsec"],
        ["secrets-encryption-provider", "identity"],
        ["egress-selector-mode", "off"],
        ["etcd-s3-bucket-lookup-type", "virtual"],
    ])("refuses %s: %j, which K3s does not know", (k, v) => {
        expect(problems({ [k]: v })[0].rule).toMatch(/must be one of/);
    });

    it.each([
        ["cluster-init", "yes"],
        ["etcd-snapshot-retention", "five"],
        ["etcd-snapshot-retention", 1.5],
        ["etcd-s3-timeout", "5 minutes"],
        ["node-taint", { key: "x" }],
        ["cluster-domain", ["a", "b"]],
        ["cluster-cidr", [1, 2]],
        ["node-name", true],
    ])("refuses %s: %j, of the wrong type", (k, v) => {
        expect(problems({ [k]: v })).toHaveLength(1);
    });

    it.each([
        ["node-name", "vps1\nnode-label: [sovereign-faas.io/jurisdiction=US]"],
        ["cluster-domain", "cluster.local\u0000"],
        ["node-taint", ["a=b:NoSchedule", "c\rd"]],
        ["kubelet-arg", ["max-pods=110\nnode-labels=x=y"]],
    ])("refuses control characters in %s", (k, v) => {
        expect(problems({ [k]: v })[0].rule).toMatch(/control character/);
    });

    it.each([
        { "cluster-cidr": "10.42.0.0/16" },
        { "service-cidr": ["10.43.0.0/16"] },
        { "cluster-domain": "cluster.local" },
        { "node-name": "vps1" },
        { "node-taint": ["dedicated=faas:NoSchedule"] },
        { "flannel-backend": "wireguard-native" },
        { "secrets-encryption-provider": "secretbox" },
        { "etcd-snapshot-retention": 10 },
        { "etcd-snapshot-schedule-cron": "0 */6 * * *" },
        { "cluster-init": true },
        { "datastore-endpoint": "postgres://k3s.db.example.no:5432/k3s" },
        { "kube-apiserver-arg": ["audit-log-maxage=30", "audit-log-path=/var/log/k3s-audit.log"] },
        { "kubelet-arg": ["max-pods=110", "read-only-port=0", "anonymous-auth=false"] },
        { "etcd-s3": true, "etcd-s3-endpoint": "s3.example.no", "etcd-s3-bucket": "k3s" },
    ])("accepts %j", (args) => {
        expect(problems(args)).toEqual([]);
    });
});

describe("pass-through flags cannot reach what is managed, switch off auth, or move state", () => {
    it.each([
        ["kubelet-arg", "node-labels=sovereign-faas.io/jurisdiction=US"],
        ["kubelet-arg", "--node-labels=topology.kubernetes.io/region=US-VA"],
        ["kubelet-arg", "anonymous-auth=true"],
        ["kubelet-arg", "authorization-mode=AlwaysAllow"],
        ["kubelet-arg", "read-only-port=10255"],
        ["kubelet-arg", "protect-kernel-defaults=false"],
        ["kubelet-arg", "root-dir=/mnt/elsewhere"],
        ["kubelet-arg", "kubeconfig=/tmp/other"],
        ["kube-apiserver-arg", "anonymous-auth=true"],
        ["kube-apiserver-arg", "anonymous-auth"],
        ["kube-apiserver-arg", "authorization-mode=AlwaysAllow"],
        ["kube-apiserver-arg", "etcd-servers=https://etcd.example.com:2379"],
        ["kube-apiserver-arg", "encryption-provider-config=/tmp/none.yaml"],
        ["kube-apiserver-arg", "disable-admission-plugins=PodSecurity"],
        ["kube-apiserver-arg", "enable-admission-plugins=AlwaysAdmit"],
        ["kube-apiserver-arg", "audit-webhook-config-file=/etc/webhook.yaml"],
        ["kube-apiserver-arg", "authentication-token-webhook-config-file=/etc/w.yaml"],
        ["kube-apiserver-arg", "oidc-issuer-url=https://accounts.example.com"],
        ["kube-apiserver-arg", "token-auth-file=/etc/tokens.csv"],
        ["kube-apiserver-arg", "profiling=true"],
        ["kube-controller-manager-arg", "controllers=-nodelifecycle"],
        ["kube-proxy-arg", "metrics-bind-address=0.0.0.0:10249"],
        ["etcd-arg", "listen-client-urls=http://0.0.0.0:2379"],
        ["etcd-arg", "data-dir=/mnt/etcd"],
    ])("refuses %s %s", (flag, item) => {
        const p = problems({ [flag]: ["audit-log-maxage=30", item] });
        expect(p).toEqual([expect.objectContaining({ key: `${KEY}.${flag}[1]`, rule: expect.stringMatching(/^is refused: /) })]);
    });

    it.each(["=x", "not a flag", "a b=c"])("refuses the malformed item %j", (item) => {
        expect(problems({ "kube-apiserver-arg": [item] })[0].rule).toMatch(/must be `flag=value`/);
    });

    it.each(["constructor=x", "toString", "hasOwnProperty=1"])("does not mistake %j for a listed item (prototype keys)", (item) => {
        expect(problems({ "kubelet-arg": [item] })).toEqual([]);
    });

    it("refuses __proto__=x as no flag name at all", () => {
        expect(problems({ "kubelet-arg": ["__proto__=x"] })[0].rule).toMatch(/must be `flag=value`/);
    });
});

describe("credentials in extraArgs stay secret to the end (never in a script or on a command line)", () => {
    it.each(["token", "agent-token", "etcd-s3-access-key", "etcd-s3-secret-key", "etcd-s3-session-token"])("refuses %s in plain config, without showing its value", (k) => {
        const p = problems({ [k]: "hunter2-credential" });
        expect(p).toHaveLength(1);
        expect(JSON.stringify(p)).not.toContain("hunter2");
        expect(p[0].fix).toContain(`--secret --path '${KEY}.${k}'`);
    });

    it("accepts them as secure values, and their problems never show them", () => {
        expect(problems({ token: "hunter2-credential" }, ["token"])).toEqual([]);
        const p = problems({ "etcd-s3-timeout": "hunter2" }, ["etcd-s3-timeout"]);
        expect(p[0].value).toBe("[secret]");
    });

    it("writes secret flags from standard input into a 0600 drop-in; the script holds none of them", () => {
        const script = renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config: renderK3sConfig({ host: "192.0.2.10", location }), airgap: false, readyTimeoutSeconds: 60, secretDropIn: true });
        expect(script).toContain(`install_file ${K3S_SECRET_DROPIN_PATH} 600 <<<"$secret_dropin"`);
        expect(script).toContain('secret_dropin="$(cat)"');
        expect(shellcheck(script)).toBe("");
        const dropIn = renderK3sSecretDropIn({ token: "hunter2-credential" });
        expect(dropIn).toContain("token: hunter2-credential");
        expect(script).not.toContain("hunter2");
        // Without secret flags, an old drop-in of ours is removed.
        const none = renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config: renderK3sConfig({ host: "192.0.2.10", location }), airgap: false, readyTimeoutSeconds: 60 });
        expect(none).toContain(`rm -f ${K3S_SECRET_DROPIN_PATH}`);
        expect(none).not.toContain("$(cat)");
    });

    it("the component refuses the same, before anything exists", () => {
        expect(validateK3sClusterArgs({ extraArgs: { d: "/mnt" }, secretArgs: { "cluster-reset": pulumi.secret("true") } }).items.map((p) => p.key)).toEqual(["extraArgs.d", "secretArgs.cluster-reset"]);
        expect(validateK3sClusterArgs({ extraArgs: { token: "x" } }).items[0].value).toBe("[not shown: a credential]");
        expect(validateK3sClusterArgs({ extraArgs: { "node-name": "a" }, secretArgs: { "node-name": "b" } }).items.map((p) => p.rule)).toEqual(["is given twice, in extraArgs and secretArgs"]);
    });
});

describe("the program: extraArgs from the stack config", () => {
    const valid: RawConfig = MINIMAL_CONFIG;
    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
    });
    const parse = (k3s: unknown, secretPaths: string[] = []) => parseStackConfig({ ...valid, k3s: JSON.stringify(k3s) }, { secretPaths });
    const problemsOf = (k3s: unknown, secretPaths: string[] = []): string[] => {
        try {
            parse(k3s, secretPaths);
        } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
            return (err as ValidationError).problems.map((p) => `${p.key} | ${JSON.stringify(p.value)}`);
        }
        return [];
    };

    it("splits secure flags into secretArgs, and keeps their values out of every message", async () => {
        const c = parse({ extraArgs: { token: "hunter2-credential", "cluster-domain": "cluster.local" } }, ["k3s.extraArgs.token"]);
        expect(c.k3s.extraArgs).toEqual({ "cluster-domain": "cluster.local" });
        expect(Object.keys(c.k3s.secretArgs)).toEqual(["token"]);
        expect(await pulumi.isSecret(c.k3s.secretArgs.token)).toBe(true);
        const p = problemsOf({ extraArgs: { token: "hunter2-credential", "cluster-reset": "hunter2-other" } }, ["k3s.extraArgs.token", "k3s.extraArgs.cluster-reset"]);
        expect(p).toEqual(['sovereign-faas:k3s.extraArgs.cluster-reset | "[secret]"']);
    });

    it("a secure value anywhere else in k3s is refused: it would be written into the script", () => {
        expect(problemsOf({ version: "v1.33.5+k3s1" }, ["k3s.version"])).toEqual(['sovereign-faas:k3s.version | "[secret]"']);
        expect(problemsOf({ version: "v1.33.5+k3s1" }, ["k3s"])).toEqual(['sovereign-faas:k3s | "[secret]"']);
    });

    it("reports every bad flag at once, each by its key", () => {
        const p = problemsOf({ extraArgs: { d: "/x", server: "https://abroad.example.com:6443", "disable-network-policy": true, token: "plain", "kubelet-arg": ["node-labels=a=b"] } });
        expect(p.map((l) => l.split(" | ")[0])).toEqual([
            "sovereign-faas:k3s.extraArgs.d",
            "sovereign-faas:k3s.extraArgs.server",
            "sovereign-faas:k3s.extraArgs.disable-network-policy",
            "sovereign-faas:k3s.extraArgs.token",
            "sovereign-faas:k3s.extraArgs.kubelet-arg[0]",
        ]);
        expect(p.join("\n")).not.toContain("plain");
    });
});

describe("the pack judges every destination of the K3s config it sees (k3s-state-local)", () => {
    const install = (config: Record<string, unknown>, stdin?: string): ResourceView => ({
        type: "command:remote:Command",
        name: "k3s-install",
        props: {
            create: renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config: renderK3sConfig({ host: "192.0.2.10", location, extraArgs: config as never }), airgap: false, readyTimeoutSeconds: 60, secretDropIn: stdin !== undefined }),
            ...(stdin !== undefined ? { stdin } : {}),
        },
    });
    const judge = (r: ResourceView) => k3sStateLocal.checkResource!(r, DEFAULT_CONFIG);

    it("passes the default config: SQLite on the host", () => {
        expect(judge(install({}))).toEqual([]);
    });

    it.each([
        ["mysql://k3s:pw@tcp(db.eu-west-1.rds.amazonaws.com:3306)/k3s", /amazonaws/],
        ["postgres://k3s:pw@k3s.postgres.database.azure.com:5432/k3s", /azure/],
        ["postgres://k3s:pw@db.example.com:5432/k3s?sslmode=require", /outside the allowed domains/],
        ["https://etcd1.example.no:2379,https://etcd2.example.com:2379", /etcd2.example.com/],
        ["nats://nats.example.com:4222", /nats.example.com/],
        ["http://[2001:db8::5]:2379", /2001:db8::5/],
        ["postgres://u:p@DB.EXAMPLE.COM./k3s", /outside the allowed domains/],
    ])("refuses the datastore-endpoint %s", (dsn, why) => {
        const m = judge(install({ "datastore-endpoint": dsn }));
        expect(m.length).toBeGreaterThan(0);
        expect(m.join("\n")).toMatch(why);
    });

    it.each(["sqlite:///var/lib/rancher/k3s/server/db/state.db?_journal=WAL", "/var/lib/rancher/k3s/server/db/state.db", "postgres://k3s@db.example.no:5432/k3s", "https://etcd.example.no:2379"])("accepts the datastore-endpoint %s", (dsn) => {
        expect(judge(install({ "datastore-endpoint": dsn }))).toEqual([]);
    });

    it("refuses etcd snapshots to S3 without an endpoint: K3s's default is s3.amazonaws.com", () => {
        expect(judge(install({ "cluster-init": true, "etcd-s3": true, "etcd-s3-bucket": "b" })).join("\n")).toMatch(/K3s's default\) points at s3.amazonaws.com is foreign storage/);
        expect(judge(install({ "cluster-init": true, "etcd-s3": "true", "etcd-s3-endpoint": "minio.example.com" })).join("\n")).toMatch(/minio.example.com/);
        expect(judge(install({ "cluster-init": true, "etcd-s3": true, "etcd-s3-endpoint": "s3.example.no" }))).toEqual([]);
    });

    it.each([
        [{ server: "https://cp.example.com:6443" }, /server joins the control plane/],
        [{ "data-dir": "/mnt/nfs/k3s" }, /data-dir moves the state/],
        [{ "kubelet-arg": ["node-labels=sovereign-faas.io/jurisdiction=US"] }, /node-labels sets node labels/],
        [{ "kube-apiserver-arg": ["etcd-servers=https://etcd.example.com:2379"] }, /etcd-servers points the API server at another datastore/],
        [{ "kube-apiserver-arg": ["audit-webhook-config-file=/x", "oidc-issuer-url=https://login.example.com"] }, /login.example.com/],
        [{ "disable-network-policy": true }, /switches off the NetworkPolicy controller/],
        [{ "flannel-backend": "none" }, /without the CNI/],
    ])("refuses %j, which the component would refuse too (the pack judges any program)", (config, why) => {
        expect(judge(install(config)).join("\n")).toMatch(why);
    });

    it("reads the secret drop-in, judges it, and never shows its values", () => {
        const secretDsn = "mysql://k3s:hunter2@tcp(db.rds.amazonaws.com:3306)/k3s";
        const m = judge(install({}, renderK3sSecretDropIn({ "datastore-endpoint": secretDsn })));
        expect(m.join("\n")).toMatch(/datastore-endpoint \(a secret value\) points outside the allowed jurisdiction: its host is foreign storage \(amazonaws.com\)/);
        expect(m.join("\n")).not.toMatch(/hunter2|rds/);
    });

    it("fails closed when the secret flags are not known (a preview of an unknown input)", () => {
        expect(judge(install({}, "[unknown]")).join("\n")).toMatch(/could not be checked/);
    });
});
