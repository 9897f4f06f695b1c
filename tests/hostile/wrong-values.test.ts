/**
 * Careless or hostile values (issue 13): sysctls that weaken the kernel or break K3s, SSH on a
 * cluster port, overlapping firewall sources, volumes that shadow system paths or each other, host
 * and user names that are YAML words, keys named like Object.prototype, and values nested deep
 * enough to crash a recursive walk. Each is refused before anything exists, with the key named.
 */
import * as pulumi from "@pulumi/pulumi";

import { CLUSTER_PORTS, GUARDED_SYSCTLS, normalizeCidrs, renderFirewallRules, SYSTEM_MOUNT_PATHS, validateFirewallArgs, validateSysctlOverrides, validateVolumes, ValidationError } from "../../components";
import { DEFAULT_CONFIG, MAX_VALUE_DEPTH, noForeignDataEndpoints } from "../../policies/rules";
import { parseStackConfig, RawConfig } from "../../program/config";
import { MAX_CONFIG_DEPTH, nestingDepth, RESERVED_KEYS } from "../../program/config-reader";
import { findSecretLeaks } from "../../program/plan/policy-stage";
import { nftAvailable, nftCheck } from "../helpers/shell";
import { MINIMAL_CONFIG } from "../helpers/config";

const base: RawConfig = MINIMAL_CONFIG;

function configProblems(raw: RawConfig): Array<{ key: string; value: unknown; rule: string }> {
    try {
        parseStackConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).problems.map((p) => ({ key: p.key, value: p.value, rule: p.rule }));
    }
    return [];
}

beforeAll(async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
});

describe("kernel overrides that weaken the host or break K3s", () => {
    const bad: Array<[string, string]> = [
        ["kernel.modprobe", "/tmp/x"],
        ["kernel.core_pattern", "core"],
        ["kernel.hotplug", "/tmp/x"],
        ["kernel.poweroff_cmd", "/tmp/x"],
        ["kernel.usermodehelper.bset", "4294967295 4294967295"],
        ["fs.suid_dumpable", "2"],
        ["kernel.yama.ptrace_scope", "0"],
        ["kernel.kptr_restrict", "0"],
        ["kernel.dmesg_restrict", "0"],
        ["kernel.unprivileged_bpf_disabled", "0"],
        ["net.core.bpf_jit_harden", "0"],
        ["kernel.perf_event_paranoid", "-1"],
        ["kernel.perf_event_paranoid", "1"],
        ["kernel.randomize_va_space", "0"],
        ["fs.protected_symlinks", "0"],
        ["fs.protected_hardlinks", "0"],
        ["fs.protected_fifos", "0"],
        ["kernel.sysrq", "1"],
        ["vm.unprivileged_userfaultfd", "1"],
        ["dev.tty.ldisc_autoload", "1"],
        ["net.ipv4.ip_forward", "0"],
        ["net.bridge.bridge-nf-call-iptables", "0"],
    ];
    it.each(bad)("refuses %s = %s, with the reason", (key, value) => {
        const p = validateSysctlOverrides({ [key]: value }, "sovereign-faas:kernel").items;
        expect(p).toHaveLength(1);
        expect(p[0].key).toBe(`sovereign-faas:kernel.${key}`);
        expect(p[0].rule).toBe(`is refused: ${key} ${GUARDED_SYSCTLS[key].why}`);
    });

    it("every guarded sysctl has a test above", () => {
        expect(new Set(bad.map(([k]) => k))).toEqual(new Set(Object.keys(GUARDED_SYSCTLS).filter((k) => !["kernel.usermodehelper.inheritable", "fs.protected_regular", "kernel.kexec_load_disabled", "net.bridge.bridge-nf-call-ip6tables"].includes(k))));
    });

    it.each([
        ["kernel.yama.ptrace_scope", "2"],
        ["kernel.perf_event_paranoid", "3"],
        ["kernel.sysrq", "176"],
        ["kernel.kptr_restrict", "2"],
        ["net.core.somaxconn", "8192"],
    ])("accepts the stricter or neutral %s = %s", (key, value) => {
        expect(validateSysctlOverrides({ [key]: value }, "k").items).toEqual([]);
    });

    it.each([["kernel.core_pattern", "|/tmp/x %p"], ["kernel.modprobe\n", "x"], ["KERNEL.modprobe", "x"], ["net.core.somaxconn", "1; reboot"], ["net.core.somaxconn", "$(id)"], ["net.core.somaxconn", "a\nb"]])("refuses the malformed %j = %j", (key, value) => {
        expect(validateSysctlOverrides({ [key]: value }, "k").items).toHaveLength(1);
    });

    it("the program refuses them all at once", () => {
        const p = configProblems({ ...base, kernel: JSON.stringify({ "kernel.modprobe": "/x", "fs.suid_dumpable": 2, "net.ipv4.ip_forward": 0 }) });
        expect(p.map((x) => x.key).sort()).toEqual(["sovereign-faas:kernel.fs.suid_dumpable", "sovereign-faas:kernel.kernel.modprobe", "sovereign-faas:kernel.net.ipv4.ip_forward"]);
    });
});

describe("SSH on a port the cluster owns", () => {
    const ports = CLUSTER_PORTS.flatMap((p) => [p.from, p.to, Math.floor((p.from + p.to) / 2)]);
    it.each([...new Set(ports)])("refuses sshPort %d", (port) => {
        const p = validateFirewallArgs({ sshPort: port }).items;
        expect(p).toEqual([expect.objectContaining({ key: "sshPort", value: port, rule: expect.stringMatching(/^is a port of /) })]);
    });

    it.each([0, -1, 65536, 22.5, Number.NaN])("refuses the impossible port %d", (port) => {
        expect(validateFirewallArgs({ sshPort: port }).items[0].rule).toMatch(/whole number from 1 to 65535/);
    });

    it.each([22, 2222, 10022, 65535])("accepts %d", (port) => {
        expect(validateFirewallArgs({ sshPort: port }).items).toEqual([]);
    });

    it("the program refuses it under sovereign-faas:sshPort", () => {
        expect(configProblems({ ...base, sshPort: "6443" })).toEqual([expect.objectContaining({ key: "sovereign-faas:sshPort", rule: expect.stringContaining("is a port of") })]);
    });
});

describe("firewall sources that overlap or carry host bits", () => {
    const cases: Array<[string[], string[]]> = [
        [["198.51.100.7/24"], ["198.51.100.0/24"]],
        [["198.51.100.0/24", "198.51.100.7/32"], ["198.51.100.0/24"]],
        [["198.51.100.7", "198.51.100.7/32"], ["198.51.100.7/32"]],
        [["0.0.0.0/0", "198.51.100.0/24", "10.0.0.0/8"], ["0.0.0.0/0"]],
        [["2001:db8::1/32", "2001:db8:1::/48"], ["2001:db8::/32"]],
        [["::/0", "0.0.0.0/0"], ["0.0.0.0/0", "::/0"]],
        [["10.0.0.0/9", "10.128.0.0/9"], ["10.0.0.0/9", "10.128.0.0/9"]],
    ];
    it.each(cases)("%j becomes %j", (input, out) => {
        expect(normalizeCidrs(input)).toEqual(out);
    });

    (nftAvailable() ? it.each(cases) : it.skip.each(cases))("nft -c accepts the rules rendered from %j", (input) => {
        expect(nftCheck(renderFirewallRules({ sshSources: input, apiSources: input, sshPort: 22 }))).toEqual({ ok: true, output: "" });
    });

    it.each(["198.51.100.0/33", "198.51.100/24", "host.example.no", "198.51.100.0/24; flush ruleset", "", "::/129"])("refuses %j", (cidr) => {
        expect(validateFirewallArgs({ sshSources: [cidr] }).items).toEqual([expect.objectContaining({ key: "sshSources[0]", rule: "must be an IPv4 or IPv6 CIDR block" })]);
    });
});

describe("volumes that shadow system paths or each other", () => {
    const opts = { sovereignRoots: ["/data/sovereign"], functionNames: ["f", "g"], configKey: "sovereign-faas:volumes" };
    const vol = (over: Record<string, unknown>) => ({ name: "v", hostPath: "/data/sovereign/v", mountPath: "/data/v", functions: ["f"], ...over });
    const problemsOf = (raw: unknown) => validateVolumes(raw, opts).problems.items;

    it.each([...SYSTEM_MOUNT_PATHS, ...SYSTEM_MOUNT_PATHS.map((p) => `${p}/sub`), "/var", "/usr/local/bin"])("refuses the mountPath %s", (mountPath) => {
        expect(problemsOf([vol({ mountPath })])).toEqual([expect.objectContaining({ key: "sovereign-faas:volumes[0].mountPath" })]);
    });

    it.each(["/data/sovereign/v\n", "/data/sovereign/v\u0000x", "/data/sovereign/\u001b[2Jv"])("refuses a hostPath with a control character: %j", (hostPath) => {
        expect(problemsOf([vol({ hostPath })])[0].rule).toMatch(/control character/);
    });

    it.each([
        ["the same directory", "/data/sovereign/v", "/data/sovereign/v"],
        ["a directory inside another", "/data/sovereign/v", "/data/sovereign/v/inner"],
    ])("refuses %s twice", (_, a, b) => {
        const p = problemsOf([vol({ name: "a", hostPath: a }), vol({ name: "b", hostPath: b, mountPath: "/data/w", functions: ["g"] })]);
        expect(p).toEqual([expect.objectContaining({ key: expect.stringMatching(/^sovereign-faas:volumes\[[01]\]\.hostPath$/) })]);
    });

    it.each([
        ["the same mount path", "/data/v", "/data/v"],
        ["nested mount paths", "/data/v", "/data/v/inner"],
    ])("refuses %s in one function", (_, a, b) => {
        const p = problemsOf([vol({ name: "a", hostPath: "/data/sovereign/a", mountPath: a }), vol({ name: "b", hostPath: "/data/sovereign/b", mountPath: b })]);
        expect(p).toEqual([expect.objectContaining({ key: "sovereign-faas:volumes[1].mountPath" })]);
    });

    it("accepts side-by-side volumes, and the same mount path in different functions", () => {
        expect(
            problemsOf([vol({ name: "a", hostPath: "/data/sovereign/a" }), vol({ name: "b", hostPath: "/data/sovereign/b", mountPath: "/data/w" }), vol({ name: "c", hostPath: "/data/sovereign/c", functions: ["g"] })]),
        ).toEqual([]);
    });
});

describe("host and user names that are no address or no user", () => {
    it.each(["true", "null", "localhost", "vps1", "", " ", "192.0.2.10; id", "http://192.0.2.10", "192.0.2.10:22", "-oProxyCommand=x.example.no", "exa mple.no"])("refuses host %j", (host) => {
        expect(configProblems({ ...base, host }).map((p) => p.key)).toContain("sovereign-faas:host");
    });

    it.each(["192.0.2.10", "2001:db8::10", "vps1.example.no", "vps1.example.no."])("accepts host %j", (host) => {
        // A DNS name needs the node's address for the network policies (sovereign-faas:network.nodeAddress).
        expect(configProblems({ ...base, host, ...(/[a-z]/.test(host) && !host.includes(":") ? { network: JSON.stringify({ nodeAddress: "192.0.2.10" }) } : {}) })).toEqual([]);
    });

    it.each(["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "Root", "-oProxyCommand", "a".repeat(33), "de ploy", "deploy$"])("refuses sshUser %j", (sshUser) => {
        expect(configProblems({ ...base, sshUser }).map((p) => p.key)).toEqual(["sovereign-faas:sshUser"]);
    });
});

describe("keys named like Object.prototype, and values nested too deep", () => {
    it.each([...RESERVED_KEYS])("refuses the key %s inside a map, and leaves its subtree unread", (k) => {
        const p = configProblems({ ...base, kernel: `{${JSON.stringify(k)}: {"polluted": true}}` });
        expect(p).toEqual([expect.objectContaining({ key: `sovereign-faas:kernel.${k}`, rule: expect.stringMatching(/reserved name/) })]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    const deepJson = (n: number): string => `${'{"a":['.repeat(n)}"x"${"]}".repeat(n)}`;
    const deep = (n: number): unknown => {
        let v: unknown = "x";
        for (let i = 0; i < n; i++) {
            v = i % 2 === 0 ? { a: v } : [v];
        }
        return v;
    };

    it("measures depth without recursion", () => {
        expect(nestingDepth("x")).toBe(0);
        expect(nestingDepth({ a: [1] })).toBe(2);
        expect(nestingDepth(deep(1_000_000))).toBeGreaterThan(MAX_CONFIG_DEPTH);
    });

    it.each(["openfaas", "kernel", "firewall", "volumes", "functionSecrets", "k3s"])("refuses a %s value nested 100 000 levels deep, with exit-2 words and no crash", (key) => {
        const p = configProblems({ ...base, [key]: key === "openfaas" ? `{"helmValues":${deepJson(50_000)}}` : deepJson(50_000) });
        expect(p).toContainEqual(expect.objectContaining({ key: `sovereign-faas:${key}`, value: "[not shown]", rule: `is nested more than ${MAX_CONFIG_DEPTH} levels deep` }));
    });

    it("accepts Helm values as deep as a real chart's", () => {
        expect(configProblems({ ...base, openfaas: JSON.stringify({ helmValues: { gateway: { resources: { requests: { memory: "120Mi" } } } } }) })).toEqual([]);
    });

    it("the data-location rule fails closed on Helm values it cannot walk, and does not crash", () => {
        const out = noForeignDataEndpoints.checkResource!({ type: "kubernetes:helm.sh/v3:Release", name: "r", props: { values: deep(50_000) } }, DEFAULT_CONFIG);
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(new RegExp(`nests more than ${MAX_VALUE_DEPTH} levels deep, more than can be checked`));
        const wide = { list: Array.from({ length: 300_000 }, (_, i) => `v${i}`) };
        expect(noForeignDataEndpoints.checkResource!({ type: "kubernetes:helm.sh/v3:Release", name: "r", props: { values: wide } }, DEFAULT_CONFIG)[0]).toMatch(/has more than 200000 values/);
    });

    it("the leak detector fails closed on inputs it cannot walk", () => {
        const leaks = findSecretLeaks([{ type: "t", name: "n", inputs: { v: deep(10_000) } } as never], [{ path: "sovereign-faas:sshPrivateKey", value: "hunter2-secret" }]);
        expect(leaks).toEqual([expect.stringMatching(/too large or too deeply nested to check/)]);
    });
});
