import * as pulumi from "@pulumi/pulumi";

import { Firewall, K3sCluster, KernelTuning, Preflight, SshConnection, remoteInvocation, renderFirewallScript } from "../../components";
import { Recorder } from "../../program/plan/recorder";
import { scriptOfInvocation } from "../helpers/shell";

const location = { country: "NO", region: "NO-03" };
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nkey\n-----END OPENSSH PRIVATE KEY-----\n";

function outputOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

describe("host bootstrap components under mocks", () => {
    let rec: Recorder;
    let conn: SshConnection;
    let cluster: K3sCluster;
    let kernel: KernelTuning;

    beforeAll(async () => {
        rec = await Recorder.start({ project: "sovereign-faas", stack: "test" });
        conn = new SshConnection("host", { host: "192.0.2.10", location, privateKey: pulumi.secret(KEY), hostKey: "ssh-ed25519 AAAAC3Nz" });
        const remote = { connection: conn.connection, user: conn.user, location };
        const preflight = new Preflight("preflight", remote, { dependsOn: [conn] });
        kernel = new KernelTuning("kernel", { ...remote, sysctls: { "net.core.somaxconn": 8192 } }, { dependsOn: [preflight] });
        const firewall = new Firewall("firewall", { ...remote, sshSources: ["198.51.100.0/24"] }, { dependsOn: [kernel] });
        cluster = new K3sCluster("k3s", { ...remote, host: "192.0.2.10" }, { dependsOn: [kernel, firewall] });
        await outputOf(cluster.kubeconfig);
        await rec.settle();
    });

    it("registers exactly the expected resources, parented and named from the component", () => {
        expect(rec.records.map((r) => [r.type, r.name, r.parent])).toEqual([
            ["sovereign-faas:host:SshConnection", "host", null],
            ["command:remote:Command", "host-probe", "host"],
            ["sovereign-faas:host:Preflight", "preflight", null],
            ["command:remote:Command", "preflight-check", "preflight"],
            ["sovereign-faas:host:KernelTuning", "kernel", null],
            ["command:remote:Command", "kernel-apply", "kernel"],
            ["sovereign-faas:host:Firewall", "firewall", null],
            ["command:remote:Command", "firewall-apply", "firewall"],
            ["sovereign-faas:k3s:K3sCluster", "k3s", null],
            ["command:remote:Command", "k3s-install", "k3s"],
            ["command:remote:Command", "k3s-kubeconfig", "k3s"],
            ["pulumi:providers:kubernetes", "k3s-provider", "k3s"],
        ]);
    });

    it("orders the host steps: connection, preflight, kernel, firewall, K3s, kubeconfig, provider", () => {
        // Children carry their parent's dependsOn: the engine orders registrations, not components.
        expect(rec.byName("preflight-check").dependsOn).toEqual(["host-probe"]);
        expect(rec.byName("kernel-apply").dependsOn).toEqual(["preflight-check"]);
        expect(rec.byName("firewall-apply").dependsOn).toEqual(["kernel-apply"]);
        expect(rec.byName("k3s-install").dependsOn).toEqual(["firewall-apply", "kernel-apply"]);
        expect(rec.byName("k3s-kubeconfig").dependsOn).toEqual(["firewall-apply", "k3s-install", "kernel-apply"]);
        expect(rec.byName("k3s-provider").dependsOn).toEqual(["k3s-kubeconfig"]);
    });

    it("keeps the connection, the kubeconfig and the provider's kubeconfig secret", async () => {
        expect(await pulumi.isSecret(conn.connection)).toBe(true);
        expect(await pulumi.isSecret(cluster.kubeconfig)).toBe(true);
        for (const r of rec.ofType("command:remote:Command")) {
            expect(r.inputs.connection).toBe("[secret]");
        }
        expect(rec.byName("k3s-provider").inputs).toEqual({ clusterIdentifier: "sovereign-faas/k3s@192.0.2.10", kubeconfig: "[secret]" });
        expect(JSON.stringify(rec.records)).not.toContain("OPENSSH PRIVATE KEY");
    });

    it("keeps the kubeconfig out of the logs", () => {
        expect(rec.byName("k3s-kubeconfig").inputs.logging).toBe("stderr");
    });

    it("rewrites the kubeconfig server to the host", async () => {
        const kc = await outputOf(cluster.kubeconfig);
        expect(kc).toContain("server: https://192.0.2.10:6443");
        expect(kc).not.toContain("127.0.0.1");
    });

    it("pins the host key and bounds the dial time", async () => {
        const c = await outputOf(conn.connection);
        expect(c).toEqual({
            host: "192.0.2.10",
            port: 22,
            user: "root",
            privateKey: KEY,
            hostKey: "ssh-ed25519 AAAAC3Nz",
            perDialTimeout: 10,
            dialErrorLimit: 3,
        });
    });

    it("runs every host step as an in-place update when its script changes, never a replacement", () => {
        for (const r of rec.ofType("command:remote:Command")) {
            // No triggers: the SDK turns them into replaceOnChanges, and a replacement runs the old delete.
            expect(r.inputs.triggers).toBeUndefined();
            expect(r.inputs.update).toBe(r.inputs.create);
            // Stacks deployed with triggers keep their old value instead of replacing once.
            expect(r.options.ignoreChanges).toEqual(r.name === "k3s-kubeconfig" ? ["create", "triggers", "update"] : ["triggers"]);
            expect(r.options.replaceOnChanges).toEqual(["triggers[*]"]);
        }
    });

    it("reads the kubeconfig once and gives the provider a clusterIdentifier, so that no upgrade can make the provider replace the cluster's objects", () => {
        const fetch = rec.byName("k3s-kubeconfig");
        expect(scriptOfInvocation(fetch.inputs.create as string)).toContain("cat /etc/rancher/k3s/k3s.yaml");
        expect(fetch.options.ignoreChanges).toEqual(expect.arrayContaining(["create", "update"]));
        const provider = rec.byName("k3s-provider");
        expect(provider.inputs.clusterIdentifier).toBe("sovereign-faas/k3s@192.0.2.10");
        expect(provider.inputs.kubeconfig).toBe("[secret]");
    });

    it("sends the firewall script the renderer produced, byte for byte", () => {
        const expected = renderFirewallScript({ location, sshSources: ["198.51.100.0/24"], apiSources: [], sshPort: 22 });
        expect(rec.byName("firewall-apply").inputs.create).toBe(remoteInvocation(expected, "root", "firewall"));
        expect(scriptOfInvocation(rec.byName("firewall-apply").inputs.create as string)).toBe(expected);
    });

    it("merges kernel overrides into the profile", () => {
        expect(kernel.profile["net.core.somaxconn"]).toBe("8192");
        expect(kernel.profile["vm.swappiness"]).toBe("1");
    });

    it("leaves K3s and its data on the host when the stack is destroyed, unless asked", () => {
        for (const r of rec.ofType("command:remote:Command")) {
            expect(r.inputs.delete).toBeUndefined();
        }
    });
});

describe("K3sCluster with uninstallOnDestroy", () => {
    it("runs k3s-uninstall.sh on delete only when asked, and still never replaces", async () => {
        const rec = await Recorder.start({ project: "sovereign-faas", stack: "uninstall" });
        new K3sCluster("k3s", { connection: pulumi.secret({ host: "h" }), user: "root", location, host: "192.0.2.10", uninstallOnDestroy: true });
        await rec.settle();
        const install = rec.byName("k3s-install");
        expect(scriptOfInvocation(install.inputs.delete as string)).toContain("/usr/local/bin/k3s-uninstall.sh </dev/null");
        expect(install.inputs.triggers).toBeUndefined();
        expect(install.options.ignoreChanges).toEqual(["triggers"]);
    });
});

describe("KernelTuning argument validation", () => {
    it("rejects overrides the kubelet would refuse, before creating anything", async () => {
        const rec = await Recorder.start({ project: "sovereign-faas", stack: "test2" });
        expect(
            () =>
                new KernelTuning("k", {
                    connection: pulumi.secret({ host: "h" }),
                    user: "root",
                    location,
                    sysctls: { "kernel.panic": 0 },
                }),
        ).toThrow("sysctls.kernel.panic: 0 is invalid: K3s runs with protect-kernel-defaults, so the kubelet refuses to start unless kernel.panic is 10");
        await rec.settle();
        expect(rec.ofType("command:remote:Command")).toEqual([]);
    });
});
