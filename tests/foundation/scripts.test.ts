import { spawnSync } from "child_process";

import {
    CIS_SYSCTLS,
    defaultSysctlProfile,
    heredoc,
    mergeSysctlProfile,
    parsePreflightReport,
    remoteInvocation,
    renderFirewallRules,
    renderFirewallScript,
    renderK3sConfig,
    renderK3sInstallScript,
    renderK3sUninstallScript,
    renderKernelScript,
    renderKubeconfigScript,
    renderPreflightScript,
    renderProbeScript,
    renderSysctlConf,
    rewriteKubeconfigServer,
    SEED_SYSCTLS,
} from "../../components";
import { nftAvailable, nftCheck, scriptOfInvocation, shellcheck } from "../helpers/shell";

const location = { country: "NO", region: "NO-03", site: "Oslo" };
const k3sConfig = renderK3sConfig({ host: "192.0.2.10", location });

const scripts: Record<string, string> = {
    probe: renderProbeScript(location),
    preflight: renderPreflightScript({ location, minFreeDiskGiB: 10, minMemoryMiB: 1536, dataPath: "/data/sovereign" }),
    kernel: renderKernelScript({ location, profile: mergeSysctlProfile({ "net.core.somaxconn": 8192 }), nofileLimit: 65536 }),
    firewall: renderFirewallScript({ location, sshSources: ["198.51.100.0/24", "2001:db8::/32"], apiSources: ["198.51.100.7/32"], sshPort: 22 }),
    "firewall-api-guard": renderFirewallScript({ location, sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32", "2001:db8::/48"], sshPort: 22, requireClientApiAccess: true }),
    k3s: renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config: k3sConfig, airgap: false, readyTimeoutSeconds: 300 }),
    "k3s-airgap": renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config: k3sConfig, airgap: true, readyTimeoutSeconds: 300 }),
    "k3s-uninstall": renderK3sUninstallScript(location),
    kubeconfig: renderKubeconfigScript(location),
};

describe.each(Object.entries(scripts))("rendered script %s", (name, script) => {
    it("starts with strict mode and the location stamp", () => {
        expect(script.split("\n").slice(0, 3)).toEqual([
            "#!/usr/bin/env bash",
            '# sovereign-faas-location: {"country":"NO","region":"NO-03","site":"Oslo"}',
            "set -euo pipefail",
        ]);
    });

    it("is clean under shellcheck", () => {
        expect(shellcheck(script)).toBe("");
    });

    it("reports its changes at the end", () => {
        expect(script.trimEnd().split("\n").pop()).toBe('log "done: $SOVEREIGN_FAAS_CHANGES change(s)"');
    });

    it("matches the snapshot", () => {
        expect(script).toMatchSnapshot(name);
    });
});

describe("remoteInvocation", () => {
    it("passes the script to bash as an argument, byte for byte", () => {
        const inv = remoteInvocation(scripts.kernel, "root", "kernel");
        const delimiter = /^bash -c "\$\(cat <<'(SOVEREIGN_FAAS_SCRIPT_[0-9a-f]{16})'\n/.exec(inv)?.[1];
        expect(delimiter).toBeDefined();
        expect(inv.endsWith(`\n${delimiter}\n)" sovereign-faas-kernel\n`)).toBe(true);
        expect(scriptOfInvocation(inv)).toBe(scripts.kernel);
    });

    it.each([
        ["the script delimiter", (d: string) => `${d}`],
        ["the delimiter, then a command", (d: string) => `${d}\nrm -rf /tmp/pwned`],
        ["the delimiter with a closing paren", (d: string) => `${d}\n)" ; touch /tmp/pwned ; "`],
        ["an old fixed delimiter", () => "SOVEREIGN_FAAS_SCRIPT_EOF\ntouch /tmp/pwned"],
        ["the file delimiter", () => "SOVEREIGN_FAAS_FILE\ntouch /tmp/pwned"],
    ])("no content can end its heredoc early: %s in the script", (_label, payload) => {
        // The delimiter the plain script would get, then a script that contains it as a line.
        const plain = remoteInvocation(scripts.kernel, "root", "kernel");
        const d = /<<'([A-Za-z0-9_]+)'/.exec(plain)?.[1] as string;
        const hostile = `${scripts.kernel}# ${payload(d).split("\n")[0]}\n${payload(d)}\n`;
        const inv = remoteInvocation(hostile, "root", "kernel");
        const used = /<<'([A-Za-z0-9_]+)'/.exec(inv)?.[1] as string;
        expect(hostile.split("\n")).not.toContain(used);
        expect(scriptOfInvocation(inv)).toBe(hostile);
        // bash gets exactly the script as its argument: run the invocation with bash -c replaced by a printer.
        const probe = inv.replace(/^bash -c/, "printf '%s|'");
        const r = spawnSync("bash", ["-c", probe], { encoding: "utf8" });
        expect(r.stdout).toBe(`${hostile.replace(/\n$/, "")}|sovereign-faas-kernel|`);
    });
});

describe("heredoc", () => {
    it("derives a delimiter that no line of the content equals, even a content built to hold it", () => {
        const first = heredoc("a\n", "FILE");
        const d = /^<<'([A-Za-z0-9_]+)'/.exec(first)?.[1] as string;
        const hostile = `a\n${d}\n`;
        const second = heredoc(hostile, "FILE");
        const d2 = /^<<'([A-Za-z0-9_]+)'/.exec(second)?.[1] as string;
        expect(hostile.split("\n")).not.toContain(d2);
        const r = spawnSync("bash", ["-c", `cat ${second}`], { encoding: "utf8" });
        expect(r.stdout).toBe(hostile);
    });

    it("uses non-interactive sudo for other users", () => {
        expect(remoteInvocation(scripts.probe, "deploy", "connect").startsWith("sudo -n bash -c")).toBe(true);
    });
});

describe("kernel profile", () => {
    it("holds the seeds' values, the K3s networking values and the CIS set", () => {
        const profile = defaultSysctlProfile();
        for (const [k, v] of Object.entries({ ...SEED_SYSCTLS, ...CIS_SYSCTLS })) {
            expect(profile[k]).toBe(v);
        }
        expect(profile["net.ipv4.ip_forward"]).toBe("1");
        expect(profile["net.bridge.bridge-nf-call-iptables"]).toBe("1");
        expect(Number(profile["net.netfilter.nf_conntrack_max"])).toBeGreaterThanOrEqual(262144);
        expect(profile["fs.file-max"]).toBe("2097152");
        expect(profile["net.ipv4.ip_local_port_range"]).toBe("1024 65535");
    });

    it("merges overrides and renders a sorted sysctl.d file", () => {
        const conf = renderSysctlConf(mergeSysctlProfile({ "net.core.somaxconn": 8192, "net.ipv4.ip_local_port_range": "2048\t60999" }));
        const lines = conf.trimEnd().split("\n").slice(1);
        expect([...lines].sort()).toEqual(lines);
        expect(lines).toContain("net.core.somaxconn = 8192");
        expect(lines).toContain("net.ipv4.ip_local_port_range = 2048 60999");
    });

    it("passes every sysctl as an argument, never as shell text", () => {
        expect(scripts.kernel).toContain("  vm.max_map_count 262144 \\\n");
        expect(scripts.kernel).toContain("  vm.swappiness 1\nwhile");
        expect(scripts.kernel).toContain("  net.ipv4.ip_local_port_range '1024 65535' \\\n");
    });
});

describe("firewall rules", () => {
    const rules = renderFirewallRules({ sshSources: ["198.51.100.0/24", "2001:db8::/32"], apiSources: ["198.51.100.7/32"], sshPort: 2222 });

    it("drop by default, and open only SSH, 80/443 and the API to their sources", () => {
        expect(rules).toContain("type filter hook input priority filter; policy drop;");
        expect(rules).toContain("elements = { 198.51.100.0/24 }");
        expect(rules).toContain("elements = { 2001:db8::/32 }");
        expect(rules).toContain("tcp dport 2222 ip saddr @ssh_v4 accept");
        expect(rules).toContain("tcp dport { 80, 443 } accept");
        expect(rules).toContain("tcp dport 6443 ip saddr @api_v4 accept");
        const accepts = rules.split("\n").filter((l) => /dport/.test(l) && /accept/.test(l) && !l.trim().startsWith("#"));
        expect(accepts.map((l) => l.trim())).toEqual([
            "tcp dport 2222 ip saddr @ssh_v4 accept",
            "tcp dport 2222 ip6 saddr @ssh_v6 accept",
            "tcp dport { 80, 443 } accept",
            "tcp dport 6443 ip saddr @api_v4 accept",
            "tcp dport 6443 ip6 saddr @api_v6 accept",
        ]);
    });

    it("never opens the kubelet, VXLAN, etcd or NodePorts", () => {
        for (const port of ["10250", "8472", "2379", "2380", "30000", "32767"]) {
            expect(rules.split("\n").filter((l) => !l.trim().startsWith("#") && l.includes(port))).toEqual([]);
        }
    });

    it("replaces only our own table, atomically", () => {
        expect(rules.split("\n").slice(3, 6)).toEqual(["table inet sovereign_faas", "delete table inet sovereign_faas", "table inet sovereign_faas {"]);
    });

    (nftAvailable() ? it : it.skip)("is accepted by nft -c", () => {
        expect(nftCheck(rules)).toEqual({ ok: true, output: "" });
        expect(nftCheck(renderFirewallRules({ sshSources: ["0.0.0.0/0"], apiSources: [], sshPort: 22 }))).toEqual({ ok: true, output: "" });
    });
});

describe("k3s config", () => {
    it("sets the hardened flags and the location labels, sorted", () => {
        expect(k3sConfig).toBe(`# Managed by sovereign-faas (pulumi). Local edits are overwritten on the next \`pulumi up\`.
disable:
  - servicelb
  - traefik
node-label:
  - sovereign-faas.io/jurisdiction=NO
  - topology.kubernetes.io/region=NO-03
protect-kernel-defaults: true
secrets-encryption: true
tls-san:
  - 192.0.2.10
write-kubeconfig-mode: "0600"
`);
    });

    it("keeps user extras but never lets them replace managed keys", () => {
        expect(renderK3sConfig({ host: "h.example.no", location, extraArgs: { "cluster-domain": "sovereign.local" } })).toContain("cluster-domain: sovereign.local\n");
        expect(() => renderK3sConfig({ host: "h", location, extraArgs: { "secrets-encryption": false } })).toThrow("k3s extraArgs may not set secrets-encryption");
    });

    it("installs with the pinned version and fails clearly without staged files in air-gapped mode", () => {
        expect(scripts.k3s).toContain("K3S_VERSION=v1.33.5+k3s1");
        expect(scripts.k3s).toContain("INSTALL_K3S_VERSION=v1.33.5+k3s1 sh \"$installer\"");
        expect(scripts["k3s-airgap"]).toContain("INSTALL_K3S_VERSION=v1.33.5+k3s1 INSTALL_K3S_SKIP_DOWNLOAD=true sh \"$installer\"");
        expect(scripts["k3s-airgap"]).not.toContain("curl");
        expect(scripts["k3s-airgap"]).toContain("air-gapped install: /usr/local/bin/k3s is missing");
    });
});

describe("kubeconfig", () => {
    it("points the server at the host, bracketing IPv6", () => {
        const kc = "    server: https://127.0.0.1:6443\n";
        expect(rewriteKubeconfigServer(kc, "192.0.2.10")).toBe("    server: https://192.0.2.10:6443\n");
        expect(rewriteKubeconfigServer(kc, "2001:db8::10")).toBe("    server: https://[2001:db8::10]:6443\n");
    });
});

describe("preflight report", () => {
    it("parses the marker line", () => {
        const report = parsePreflightReport('[log]\nSOVEREIGN_FAAS_PREFLIGHT {"kernel":"6.1.0","warnings":[]}\n');
        expect(report).toEqual({ kernel: "6.1.0", warnings: [] });
    });

    it("explains a missing report", () => {
        expect(() => parsePreflightReport("")).toThrow("preflight printed no report");
    });
});
