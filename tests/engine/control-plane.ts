/**
 * A real Kubernetes control plane on loopback for the engine tier: etcd, kube-apiserver and
 * kube-controller-manager, built from Go modules by tests/engine/tools/build.sh. No kubelet
 * runs, so no pod starts: objects are validated and stored by the real API server, and the
 * controller manager finalizes namespaces and owns ReplicaSets as it would in a cluster.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";

export interface ControlPlane {
    /** A kubeconfig for an admin (system:masters) with a token. */
    readonly kubeconfig: string;
    readonly kubeconfigPath: string;
    readonly server: string;
    readonly caPath: string;
    readonly token: string;
    /** Resident memory of each process, MiB. */
    rss(): Record<string, number>;
    stop(): Promise<void>;
}

function openssl(args: string[]): void {
    execFileSync("openssl", args, { stdio: "ignore" });
}

async function waitReady(server: string, ca: string, token: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const req = https.get(`${server}/readyz`, { ca: fs.readFileSync(ca), headers: { Authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
                res.resume();
                resolve(res.statusCode === 200);
            });
            req.on("error", () => resolve(false));
            req.on("timeout", () => {
                req.destroy();
                resolve(false);
            });
        });
        if (ok) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`kube-apiserver not ready at ${server}/readyz after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Starts the control plane in `dir` on the given ports; the binaries are on PATH. */
export async function startControlPlane(dir: string, env: NodeJS.ProcessEnv, ports = { etcd: 23791, etcdPeer: 23801, api: 16443, kcm: 10357 }): Promise<ControlPlane> {
    fs.mkdirSync(path.join(dir, "etcd"), { recursive: true });
    const p = (f: string): string => path.join(dir, f);
    openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sovereign-faas-engine-ca", "-keyout", p("ca.key"), "-out", p("ca.crt")]);
    openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", p("apiserver.key"), "-out", p("apiserver.csr")]);
    fs.writeFileSync(p("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl(["x509", "-req", "-in", p("apiserver.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", p("san.ext"), "-out", p("apiserver.crt")]);
    openssl(["genrsa", "-out", p("sa.key"), "2048"]);
    openssl(["rsa", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")]);
    const token = "engine-admin-token";
    fs.writeFileSync(p("tokens.csv"), `${token},admin,admin,system:masters\nengine-kcm-token,system:kube-controller-manager,kcm\n`);
    const server = `https://127.0.0.1:${ports.api}`;
    const kubeconfig = (user: string, tok: string): string => `apiVersion: v1
kind: Config
clusters:
- name: engine
  cluster:
    server: ${server}
    certificate-authority-data: ${fs.readFileSync(p("ca.crt")).toString("base64")}
users:
- name: ${user}
  user:
    token: ${tok}
contexts:
- name: engine
  context: {cluster: engine, user: ${user}, namespace: default}
current-context: engine
`;
    fs.writeFileSync(p("admin.kubeconfig"), kubeconfig("admin", token));
    fs.writeFileSync(p("kcm.kubeconfig"), kubeconfig("kcm", "engine-kcm-token"));

    const procs: Array<{ name: string; child: ChildProcess }> = [];
    const run = (name: string, args: string[]): void => {
        const log = fs.openSync(p(`${name}.log`), "w");
        const child = spawn(name, args, { stdio: ["ignore", log, log], env });
        // A missing binary shows as a dead process and a failed readiness wait, not an unhandled error.
        child.on("error", (err) => fs.appendFileSync(p(`${name}.log`), `spawn failed: ${err.message}\n`));
        procs.push({ name, child });
    };
    run("etcd", [
        "--name", "engine", "--data-dir", p("etcd"),
        "--listen-client-urls", `http://127.0.0.1:${ports.etcd}`, "--advertise-client-urls", `http://127.0.0.1:${ports.etcd}`,
        "--listen-peer-urls", `http://127.0.0.1:${ports.etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${ports.etcdPeer}`,
        "--initial-cluster", `engine=http://127.0.0.1:${ports.etcdPeer}`,
    ]);
    run("kube-apiserver", [
        "--etcd-servers", `http://127.0.0.1:${ports.etcd}`,
        "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String(ports.api),
        "--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"), "--client-ca-file", p("ca.crt"),
        "--token-auth-file", p("tokens.csv"), "--authorization-mode", "RBAC",
        "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
        "--service-cluster-ip-range", "10.43.0.0/16", "--endpoint-reconciler-type", "none", "--cert-dir", p("certs"),
    ]);
    try {
        await waitReady(server, p("ca.crt"), token, 60_000);
    } catch (err) {
        await stopAll(procs);
        throw new Error(`${(err as Error).message}\n${tail(p("kube-apiserver.log"))}`);
    }
    run("kube-controller-manager", [
        "--kubeconfig", p("kcm.kubeconfig"), "--authentication-kubeconfig", p("kcm.kubeconfig"), "--authorization-kubeconfig", p("kcm.kubeconfig"),
        "--bind-address", "127.0.0.1", "--secure-port", String(ports.kcm), "--leader-elect=false",
        "--service-account-private-key-file", p("sa.key"), "--root-ca-file", p("ca.crt"), "--use-service-account-credentials",
        "--controllers", "*,-node-ipam-controller,-node-lifecycle-controller",
    ]);
    return {
        kubeconfig: kubeconfig("admin", token),
        kubeconfigPath: p("admin.kubeconfig"),
        server,
        caPath: p("ca.crt"),
        token,
        rss(): Record<string, number> {
            const out: Record<string, number> = {};
            for (const { name, child } of procs) {
                try {
                    const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
                    out[name] = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
                } catch {
                    out[name] = 0;
                }
            }
            return out;
        },
        stop: () => stopAll(procs),
    };
}

function tail(file: string): string {
    try {
        return fs.readFileSync(file, "utf8").split("\n").slice(-20).join("\n");
    } catch {
        return "";
    }
}

/** Stops the processes newest first: SIGTERM, up to 15 s, then SIGKILL. */
async function stopAll(procs: Array<{ name: string; child: ChildProcess }>): Promise<void> {
    for (const { child } of [...procs].reverse()) {
        if (child.exitCode !== null || child.pid === undefined) {
            continue;
        }
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
    }
}

export interface KubeResponse {
    readonly status: number;
    readonly body: any;
    /** The API server's Warning headers (Pod Security warnings among them). */
    readonly warnings: string[];
}

/** One request to the API server as the admin. */
export function kube(cp: Pick<ControlPlane, "server" | "caPath" | "token">, method: string, apiPath: string, body?: unknown, contentType = "application/json"): Promise<KubeResponse> {
    return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = https.request(
            `${cp.server}${apiPath}`,
            {
                method,
                ca: fs.readFileSync(cp.caPath),
                headers: { Authorization: `Bearer ${cp.token}`, Accept: "application/json", ...(data ? { "Content-Type": contentType, "Content-Length": data.length } : {}) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    const warning = res.headers.warning;
                    let parsed: unknown = text;
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        // not JSON
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed, warnings: warning === undefined ? [] : Array.isArray(warning) ? warning : [warning] });
                });
            },
        );
        req.on("error", reject);
        if (data) {
            req.write(data);
        }
        req.end();
    });
}
