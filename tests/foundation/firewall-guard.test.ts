/**
 * The firewall's lock-out guard, run for real in bash: which client address it sees (also under
 * sudo, whose env_reset strips SSH_CLIENT) and whether IPv4 and IPv6 addresses lie in the sources.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { CLIENT_ADDRESS_FUNCTIONS } from "../../components";

function bash(script: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", `${CLIENT_ADDRESS_FUNCTIONS}\n${script}`], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const inside = (ip: string, cidrs: string[]): boolean => bash(`in_sources ${ip} ${cidrs.join(" ")}`).status === 0;

describe("in_sources", () => {
    it.each([
        ["198.51.100.7", ["198.51.100.0/24"], true],
        ["198.51.101.7", ["198.51.100.0/24"], false],
        ["10.0.2.2", ["0.0.0.0/0"], true],
        ["10.0.2.2", ["10.0.2.2"], true],
        ["10.0.2.3", ["10.0.2.2/32"], false],
        ["10.0.2.2", ["2001:db8::/32"], false],
        ["2001:db8::1", ["2001:db8::/32"], true],
        ["2001:db9::1", ["2001:db8::/32"], false],
        ["2001:db8:0:0:0:0:0:1", ["2001:db8::1/128"], true],
        ["2001:db8::1", ["2001:db8::2/127"], false],
        ["2001:db8::3", ["2001:db8::2/127"], true],
        ["fe80::1%eth0", ["fe80::/10"], true],
        ["fec0::1", ["fe80::/10"], false],
        ["febf::1", ["fe80::/10"], true],
        ["::1", ["::/0"], true],
        ["::ffff:192.0.2.1", ["::ffff:192.0.2.0/120"], true],
        ["::ffff:192.0.3.1", ["::ffff:192.0.2.0/120"], false],
        ["2001:db8::1", ["198.51.100.0/24", "2001:db8::/48"], true],
        ["2001:db8::1", [], false],
    ])("%s in %j: %s", (ip, cidrs, expected) => {
        expect(inside(ip, cidrs)).toBe(expected);
    });

    it("refuses malformed IPv6 instead of matching it", () => {
        expect(inside("2001:db8::1::2", ["::/0"])).toBe(false);
        expect(inside("2001:db8:zz::1", ["::/0"])).toBe(false);
        expect(inside("1:2:3:4:5:6:7", ["::/0"])).toBe(false);
    });
});

describe("ssh_client_address", () => {
    it("reads SSH_CLIENT", () => {
        expect(bash("ssh_client_address", { SSH_CLIENT: "203.0.113.5 50000 22" }).stdout).toBe("203.0.113.5");
        expect(bash("ssh_client_address", { SSH_CLIENT: "2001:db8::5 50000 22" }).stdout).toBe("2001:db8::5");
        expect(bash("ssh_client_address", { SSH_CLIENT: "::ffff:10.0.2.2 50000 22" }).stdout).toBe("10.0.2.2");
    });

    it("finds it in an ancestor when the environment was reset (sudo's env_reset)", () => {
        // The outer shell has SSH_CLIENT; the inner one runs without it, as under sudo.
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-guard-")), "guard.sh");
        fs.writeFileSync(file, `${CLIENT_ADDRESS_FUNCTIONS}\nssh_client_address\n`);
        const r = spawnSync("bash", ["-c", `env -u SSH_CLIENT bash ${file}; true`], {
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SSH_CLIENT: "198.51.100.9 40000 22" },
        });
        expect(r.stdout).toBe("198.51.100.9");
    });

    it("is empty without an SSH session anywhere up the tree", () => {
        expect(bash("ssh_client_address").stdout).toBe("");
    });
});
