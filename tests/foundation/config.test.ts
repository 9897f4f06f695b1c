import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../../components";
import { parseStackConfig, RawConfig } from "../../program/config";

const valid: RawConfig = {
    host: "192.0.2.10",
    location: JSON.stringify({ country: "NO", region: "NO-03", site: "Oslo" }),
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
    firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }),
    functions: "tests/fixtures/minimal-stack.yml",
};

function problemsOf(raw: RawConfig): string[] {
    try {
        parseStackConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).problems.map((p) => `${p.key} | ${JSON.stringify(p.value)} | ${p.rule} | ${p.fix}`);
    }
    throw new Error("expected a ValidationError");
}

describe("parseStackConfig", () => {
    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
    });

    it("applies the documented defaults", () => {
        const c = parseStackConfig(valid);
        expect(c.host).toBe("192.0.2.10");
        expect(c.sshUser).toBe("root");
        expect(c.sshPort).toBe(22);
        expect(c.location).toEqual({ country: "NO", region: "NO-03", site: "Oslo" });
        expect(c.allowedCountries).toEqual(["NO"]);
        expect(c.k3s).toEqual({ version: "v1.33.5+k3s1", airgap: false, uninstallOnDestroy: false, extraArgs: {}, secretArgs: {} });
        expect(c.kernel).toEqual({});
        expect(c.firewall).toEqual({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] });
    });

    it("keeps the SSH key secret", async () => {
        const c = parseStackConfig(valid);
        expect(c.sshPrivateKey).toBeDefined();
        expect(await pulumi.isSecret(c.sshPrivateKey!)).toBe(true);
    });

    it("accepts IPv6 addresses and DNS names as host", () => {
        expect(parseStackConfig({ ...valid, host: "2001:db8::10" }).host).toBe("2001:db8::10");
        expect(parseStackConfig({ ...valid, host: "vps1.example.no", network: JSON.stringify({ nodeAddress: "192.0.2.10" }) }).host).toBe("vps1.example.no");
    });

    it("rejects a host that is neither an address nor a DNS name", () => {
        expect(problemsOf({ ...valid, host: "not an ip!" })).toEqual([
            'sovereign-faas:host | "not an ip!" | must be an IPv4 address, an IPv6 address or a fully qualified DNS name (with a dot) | use the VPS\'s public address, e.g. 192.0.2.10 or vps1.example.no',
        ]);
        expect(problemsOf({ ...valid, host: "300.1.2.3" })[0]).toContain("sovereign-faas:host");
    });

    it("requires the host and the location", () => {
        const { host: _h, location: _l, ...rest } = valid;
        expect(problemsOf(rest).map((p) => p.split(" | ")[0])).toEqual(["sovereign-faas:host", "sovereign-faas:location"]);
    });

    it("rejects a country outside the allow-list, naming the key and the fix", () => {
        expect(problemsOf({ ...valid, location: JSON.stringify({ country: "SE", region: "SE-AB" }) })).toEqual([
            'sovereign-faas:location.country | "SE" | must be one of the allowed countries ["NO"]: data may only live there | move the host to an allowed country, or (only with your DPO\'s approval) add SE to sovereign-faas:allowedCountries',
        ]);
    });

    it("rejects codes that are not ISO 3166", () => {
        const problems = problemsOf({ ...valid, location: JSON.stringify({ country: "XX", region: "Oslo" }) });
        expect(problems.map((p) => p.split(" | ").slice(0, 2).join(" | "))).toEqual([
            'sovereign-faas:location.country | "XX"',
            'sovereign-faas:location.region | "Oslo"',
        ]);
    });

    it("rejects a region of another country and an unknown Norwegian county", () => {
        expect(problemsOf({ ...valid, location: JSON.stringify({ country: "NO", region: "SE-AB" }) })[0]).toBe(
            'sovereign-faas:location.region | "SE-AB" | must be a subdivision of location.country (NO) | use a code starting with NO-',
        );
        expect(problemsOf({ ...valid, location: JSON.stringify({ country: "NO", region: "NO-99" }) })[0]).toContain("is not a known ISO 3166-2 code of NO");
    });

    it("allows another country only when allowedCountries lists it", () => {
        const c = parseStackConfig({ ...valid, allowedCountries: '["NO","SE"]', location: JSON.stringify({ country: "SE", region: "SE-AB" }) });
        expect(c.location.country).toBe("SE");
    });

    it("rejects malformed CIDRs, naming the list index", () => {
        expect(problemsOf({ ...valid, firewall: JSON.stringify({ sshSources: ["10.0.0.0/33", "ok"], apiSources: ["2001:db8::/129"] }) })).toEqual([
            'sovereign-faas:firewall.sshSources[0] | "10.0.0.0/33" | must be an IPv4 or IPv6 CIDR block | write it like 203.0.113.0/24 or 2001:db8::/32',
            'sovereign-faas:firewall.sshSources[1] | "ok" | must be an IPv4 or IPv6 CIDR block | write it like 203.0.113.0/24 or 2001:db8::/32',
            'sovereign-faas:firewall.apiSources[0] | "2001:db8::/129" | must be an IPv4 or IPv6 CIDR block | write it like 203.0.113.0/24 or 2001:db8::/32',
        ]);
    });

    it("requires an API source: pulumi up reaches 6443 directly, and the firewall drops it from everywhere else", () => {
        expect(problemsOf({ ...valid, firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"] }) })).toEqual([
            "sovereign-faas:firewall.apiSources | undefined | must list the address pulumi up runs from: Pulumi and the Kubernetes provider reach the API on port 6443 directly (neither can tunnel through SSH), and the firewall drops 6443 from everywhere else | pulumi config set --path 'sovereign-faas:firewall.apiSources[0]' <the public address of the machine that runs pulumi up>/32",
        ]);
        expect(problemsOf({ ...valid, firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: [] }) })[0]).toContain("sovereign-faas:firewall.apiSources | [] | must list the address pulumi up runs from");
    });

    it("refuses an empty SSH allow-list, which would lock pulumi out", () => {
        expect(problemsOf({ ...valid, firewall: JSON.stringify({ sshSources: [], apiSources: ["198.51.100.7/32"] }) })[0]).toContain("sovereign-faas:firewall.sshSources | [] | must not be empty");
    });

    it("rejects a non-numeric or out-of-range port", () => {
        expect(problemsOf({ ...valid, sshPort: "ssh" })).toEqual([
            'sovereign-faas:sshPort | "ssh" | must be a whole number from 1 to 65535 | set a number such as 22',
        ]);
        expect(problemsOf({ ...valid, sshPort: "70000" })[0]).toContain("sovereign-faas:sshPort");
    });

    it("rejects sysctl keys of the wrong syntax and values the kubelet would refuse", () => {
        expect(problemsOf({ ...valid, kernel: JSON.stringify({ "Net Core": 1, "vm.overcommit_memory": 0, "net.core.somaxconn": "4096; reboot" }) })).toEqual([
            'sovereign-faas:kernel.Net Core | "Net Core" | a sysctl key is dot-separated lower-case words, like net.core.somaxconn | use the key as `sysctl -a` prints it',
            "sovereign-faas:kernel.vm.overcommit_memory | 0 | K3s runs with protect-kernel-defaults, so the kubelet refuses to start unless vm.overcommit_memory is 1 | remove the override or set it to 1",
            'sovereign-faas:kernel.net.core.somaxconn | "4096; reboot" | a sysctl value is a number or a short text of letters, digits, spaces and , . _ : / - | quote the value as `sysctl -n` prints it',
        ]);
    });

    it("requires a pinned K3s version, not a channel", () => {
        expect(problemsOf({ ...valid, k3s: JSON.stringify({ version: "stable" }) })).toEqual([
            'sovereign-faas:k3s.version | "stable" | must be a pinned K3s release like v1.33.5+k3s1 (not a channel such as stable or latest) | pin an exact release, e.g. v1.33.5+k3s1; use k3s.channel only alongside it',
        ]);
    });

    it("refuses extraArgs that would override managed security settings", () => {
        expect(problemsOf({ ...valid, k3s: JSON.stringify({ extraArgs: { "write-kubeconfig-mode": "0644" } }) })[0]).toBe(
            'sovereign-faas:k3s.extraArgs.write-kubeconfig-mode | "0644" | write-kubeconfig-mode is managed by sovereign-faas (security and location settings) | remove it; see the K3s section of the README for what is set',
        );
    });

    it("reports unknown keys as likely typos", () => {
        expect(problemsOf({ ...valid, firewall: JSON.stringify({ sshSource: ["1.2.3.4/32"], apiSources: ["198.51.100.7/32"] }) })[0]).toContain("sovereign-faas:firewall.sshSource");
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({
            host: "not an ip!",
            location: JSON.stringify({ country: "SE", region: "SE-AB" }),
            sshPort: "x",
            firewall: JSON.stringify({ sshSources: ["nope"] }),
            k3s: JSON.stringify({ version: "latest" }),
            functions: "tests/fixtures/minimal-stack.yml",
        });
        expect(problems.map((p) => p.split(" | ")[0])).toEqual([
            "sovereign-faas:host",
            "sovereign-faas:location.country",
            "sovereign-faas:sshPort",
            "sovereign-faas:sshPrivateKey",
            "sovereign-faas:k3s.version",
            "sovereign-faas:firewall.sshSources[0]",
            "sovereign-faas:firewall.apiSources",
        ]);
    });

    it("formats the message with one line per problem", () => {
        try {
            parseStackConfig({ ...valid, host: "not an ip!", sshPort: "x" });
            throw new Error("expected failure");
        } catch (err) {
            expect((err as Error).message.split("\n")).toEqual([
                "Invalid stack configuration (2 problems):",
                '  - sovereign-faas:host: "not an ip!" is invalid: must be an IPv4 address, an IPv6 address or a fully qualified DNS name (with a dot). Fix: use the VPS\'s public address, e.g. 192.0.2.10 or vps1.example.no',
                '  - sovereign-faas:sshPort: "x" is invalid: must be a whole number from 1 to 65535. Fix: set a number such as 22',
            ]);
        }
    });
});
