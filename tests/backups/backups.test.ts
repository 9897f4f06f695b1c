/**
 * Backups (issue 16): the rendered scripts and units under shellcheck, secrets that reach the host
 * only on standard input, validation messages, the policy rule that refuses a foreign target, and
 * the prod plan. The real backup and restore run against the Debian VM in `npm run test:vm`.
 */
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import {
    BACKUP_TARGET_STAMP as LIBRARY_STAMP,
    BackupSettings,
    renderBackupFiles,
    renderBackupInstallScript,
    renderBackupRunScript,
    renderBackupSecretsStdin,
    renderBackupUnits,
    renderFailureHook,
    renderK3sInstallScript,
    renderRestoreScript,
    repositoryOf,
    validateBackupSettings,
    ValidationError,
} from "../../components";
import { BACKUP_TARGET_STAMP, backupTargetLocal, DEFAULT_CONFIG, ResourceView } from "../../policies/rules";
import { parseStackConfig, RawConfig } from "../../program/config";
import { planWithConfig, prodConfig } from "../helpers/plan";
import { shellcheck } from "../helpers/shell";
import { MINIMAL_CONFIG } from "../helpers/config";

const location = { country: "NO", region: "NO-03" };
const sftp: BackupSettings = {
    schedule: "*-*-* 03:15:00",
    retention: { daily: 7, weekly: 4, monthly: 6 },
    checkSubset: "5%",
    target: { kind: "sftp", host: "backup.example.no", user: "backup", path: "/srv/restic/vps1", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample" },
    volumeRoots: ["/data/sovereign"],
    k3s: true,
    backupHost: "vps1",
};
const s3: BackupSettings = { ...sftp, target: { kind: "s3", endpoint: "https://s3.example.no", bucket: "vps1-backups", prefix: "prod" } };

describe("rendered scripts and units", () => {
    it.each([
        ["the sftp install step", renderBackupInstallScript(sftp, location)],
        ["the s3 install step", renderBackupInstallScript(s3, location)],
        ["backup.sh", renderBackupRunScript()],
        ["restore.sh", renderRestoreScript()],
        ["the failure hook", renderFailureHook()],
    ])("%s is clean under shellcheck", (_, script) => {
        expect(shellcheck(script)).toBe("");
    });

    it("the service loads exactly the target's credentials, runs once at a time and reports failure", () => {
        const units = renderBackupUnits(sftp);
        expect(units["sovereign-backup.service"]).toContain("LoadCredential=restic-password:/etc/sovereign-faas/backup/restic-password\nLoadCredential=ssh-key:/etc/sovereign-faas/backup/ssh-key\n");
        expect(units["sovereign-backup.service"]).toContain("OnFailure=sovereign-backup-failure@%n.service");
        expect(renderBackupUnits(s3)["sovereign-backup.service"]).toContain("LoadCredential=s3-credentials:");
        expect(renderBackupUnits(s3)["sovereign-backup.service"]).not.toContain("ssh-key");
        expect(units["sovereign-backup.timer"]).toContain("OnCalendar=*-*-* 03:15:00\nRandomizedDelaySec=30min\nPersistent=true");
    });

    it("the SFTP target's host key is pinned, never learned", () => {
        const files = Object.fromEntries(renderBackupFiles(sftp).map(([p, , c]) => [p, c]));
        expect(files["/etc/sovereign-faas/backup/ssh_config"]).toContain("StrictHostKeyChecking yes\n  UpdateHostKeys no\n  BatchMode yes");
        expect(files["/etc/sovereign-faas/backup/known_hosts"]).toBe("backup.example.no ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample\n");
        expect(renderBackupFiles({ ...sftp, target: { ...sftp.target, port: 2222 } as BackupSettings["target"] }).find(([p]) => p.endsWith("known_hosts"))?.[2]).toBe("[backup.example.no]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample\n");
    });

    it("repositories: sftp through the pinned alias, s3 with bucket and prefix", () => {
        expect(repositoryOf(sftp.target)).toBe("sftp:sovereign-backup-target:/srv/restic/vps1");
        expect(repositoryOf(s3.target)).toBe("s3:https://s3.example.no/vps1-backups/prod");
    });

    it("the datastore is copied with VACUUM INTO and checked, with the token; restores go through staging", () => {
        const run = renderBackupRunScript();
        expect(run).toContain(`sqlite3 -bail "$db" ".timeout 30000" "VACUUM INTO '$stage/state.db.tmp'"`);
        expect(run).toContain("PRAGMA integrity_check");
        expect(run).toContain('install -m 0600 "$K3S_DATA_DIR/server/token" "$stage/token"');
        const restore = renderRestoreScript();
        expect(restore).toContain('mv "$db" "$db.pre-restore-$ts"');
        expect(restore).toContain('--target "$tmp" --verify');
    });

    it("secrets travel on standard input, base64 per line, never in the script", () => {
        const secret = "pa$$word'with\"quotes\nand a newline";
        const stdin = renderBackupSecretsStdin({ "restic-password": secret, "ssh-key": "KEY" });
        expect(stdin).toBe(`restic-password ${Buffer.from(secret).toString("base64")}\nssh-key ${Buffer.from("KEY").toString("base64")}\n`);
        expect(renderBackupInstallScript(sftp, location)).not.toContain(secret);
        expect(renderBackupInstallScript(sftp, location)).toContain('*) fail "unexpected secret');
    });

    it("the K3s step backs up the cluster state before every upgrade, where backups are set up", () => {
        const script = renderK3sInstallScript({ version: "v1.33.5+k3s1", location, config: "", airgap: false, readyTimeoutSeconds: 60 });
        expect(script).toContain('if [ -n "$installed" ] && [ -f /etc/systemd/system/sovereign-backup.service ]; then');
        expect(script).toContain("systemctl start sovereign-backup.service || fail \"the backup before the K3s upgrade failed, so K3s was not upgraded");
    });

    it("the library and the pack read the same target stamp", () => {
        expect(LIBRARY_STAMP).toBe(BACKUP_TARGET_STAMP);
    });
});

describe("validation", () => {
    const secrets = { password: "p", sshPrivateKey: "k" };
    const problems = (s: BackupSettings, sec: Record<string, unknown> = secrets) => validateBackupSettings(s, sec).items.map((p) => `${p.key}: ${p.rule}`);

    it("accepts the documented shapes", () => {
        expect(problems(sftp)).toEqual([]);
        expect(problems(s3, { password: "p", accessKeyId: "a", secretAccessKey: "s" })).toEqual([]);
    });

    it.each([
        [{ schedule: "daily; rm -rf /" }, "backups.schedule"],
        [{ retention: { daily: -1, weekly: 4, monthly: 6 } }, "backups.retention.daily"],
        [{ retention: { daily: 0, weekly: 0, monthly: 0 } }, "backups.retention"],
        [{ checkSubset: "150%" }, "backups.checkSubset"],
        [{ target: { ...sftp.target, host: "backup" } }, "backups.target.host"],
        [{ target: { ...sftp.target, path: "/srv/../etc" } }, "backups.target.path"],
        [{ target: { ...sftp.target, path: "relative" } }, "backups.target.path"],
        [{ target: { ...sftp.target, user: "Root" } }, "backups.target.user"],
        [{ target: { ...sftp.target, hostKey: "" } }, "backups.target.hostKey"],
        [{ target: { ...sftp.target, port: 70000 } }, "backups.target.port"],
        [{ target: { kind: "s3", endpoint: "http://s3.example.no", bucket: "b-1" } }, "backups.target.endpoint"],
        [{ target: { kind: "s3", endpoint: "https://user:pw@s3.example.no", bucket: "b-1" } }, "backups.target.endpoint"],
        [{ target: { kind: "s3", endpoint: "https://s3.example.no/path", bucket: "b-1" } }, "backups.target.endpoint"],
        [{ target: { kind: "s3", endpoint: "https://s3.example.no", bucket: "B" } }, "backups.target.bucket"],
        [{ target: { kind: "ftp" } }, "backups.target.kind"],
    ])("refuses %j at %s", (over, key) => {
        expect(problems({ ...sftp, ...over } as BackupSettings, { password: "p", sshPrivateKey: "k", accessKeyId: "a", secretAccessKey: "s" }).map((p) => p.split(": ")[0])).toContain(key);
    });

    it("names every missing credential", () => {
        expect(problems(sftp, {})).toEqual([expect.stringContaining("backups.target.privateKey: is required"), expect.stringContaining("backups.password: is required")]);
        expect(problems(s3, { password: "p" })).toEqual([expect.stringContaining("backups.target.accessKeyId"), expect.stringContaining("backups.target.secretAccessKey")]);
    });

    const base: RawConfig = MINIMAL_CONFIG;
    const config = (backups: unknown, secretPaths: string[] = ["backups.password", "backups.target.privateKey"]) => {
        try {
            return { config: parseStackConfig({ ...base, backups: JSON.stringify(backups) }, { secretPaths }), problems: [] as string[] };
        } catch (err) {
            return { config: undefined, problems: (err as ValidationError).problems.map((p) => `${p.key} | ${String(p.value)} | ${p.rule}`) };
        }
    };

    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "test");
    });

    it("the program reads the section with its defaults, credentials as secrets", () => {
        const r = config({ password: "pw-pw-pw", target: { kind: "sftp", host: "backup.example.no", user: "backup", path: "/srv/r", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample", privateKey: "KEY" } });
        expect(r.problems).toEqual([]);
        expect(r.config?.backups?.schedule).toBe("*-*-* 03:15:00");
        expect(r.config?.backups?.retention).toEqual({ daily: 7, weekly: 4, monthly: 6 });
    });

    it("the credentials are secret outputs", async () => {
        const r = config({ password: "pw-pw-pw", target: { kind: "sftp", host: "backup.example.no", user: "backup", path: "/srv/r", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample", privateKey: "KEY" } });
        expect(await pulumi.isSecret(r.config?.backups?.secrets.password as pulumi.Output<string>)).toBe(true);
        expect(await pulumi.isSecret(r.config?.backups?.secrets.sshPrivateKey as pulumi.Output<string>)).toBe(true);
    });

    it("refuses credentials written in plain text, without showing them", () => {
        const r = config({ password: "hunter2-plain", target: { kind: "sftp", host: "backup.example.no", user: "backup", path: "/srv/r", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample", privateKey: "KEY" } }, []);
        expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^sovereign-faas:backups.password \| \[not shown\] \| must be a secure value/)]));
        expect(JSON.stringify(r.problems)).not.toContain("hunter2-plain");
    });

    it("refuses typos with the key they resemble, and a missing target", () => {
        const r = config({ password: "x", retension: { daily: 1 } }, ["backups.password"]);
        expect(r.problems).toEqual(expect.arrayContaining([expect.stringContaining("sovereign-faas:backups.retension"), expect.stringContaining("sovereign-faas:backups.target")]));
    });
});

describe("backup-target-local", () => {
    const step = (stamp: unknown): ResourceView => ({ type: "command:remote:Command", name: "backups-install", props: { create: `bash -c "...\n${BACKUP_TARGET_STAMP}${JSON.stringify(stamp)}\n..." sovereign-faas-backups\n` } });
    const judge = (r: ResourceView) => backupTargetLocal.checkResource!(r, DEFAULT_CONFIG);

    it.each([
        [{ kind: "sftp", host: "backup.example.no", port: 22 }],
        [{ kind: "sftp", host: "2.148.1.1", port: 22 }],
        [{ kind: "sftp", host: "10.0.0.5", port: 22 }],
        [{ kind: "s3", endpoint: "https://s3.example.no", bucket: "b" }],
    ])("accepts %j", (stamp) => {
        expect(judge(step(stamp))).toEqual([]);
    });

    it.each([
        [{ kind: "s3", endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "b" }, "foreign storage (amazonaws.com)"],
        [{ kind: "s3", endpoint: "https://backup.example.de", bucket: "b" }, "outside the allowed domains"],
        [{ kind: "s3", endpoint: "https://storage.googleapis.com", bucket: "b" }, "foreign storage"],
        [{ kind: "sftp", host: "backup.example.com", port: 22 }, "outside the allowed domains"],
        [{ kind: "sftp", host: "2.28.1.1", port: 22 }, "registered in DE"],
        [{ kind: "sftp", host: "backup%2Eexample%2Ede", port: 22 }, "outside the allowed domains"],
    ])("refuses %j: %s", (stamp, why) => {
        expect(judge(step(stamp))).toEqual([expect.stringContaining(why)]);
        expect(judge(step(stamp))[0]).toMatch(/^backups-install must keep backups in the allowed jurisdiction/);
    });

    it("fails closed on a backups step that does not say where it goes", () => {
        expect(judge({ type: "command:remote:Command", name: "backups-install", props: { create: 'bash -c "x" sovereign-faas-backups\n' } })).toEqual([expect.stringContaining("must declare where its backups go")]);
        expect(judge({ type: "command:remote:Command", name: "backups-install", props: { create: "[unknown]" } })).toHaveLength(0);
    });
});

describe("the prod plan", () => {
    it("plans its backups, and the report lists the target with its evidence", () => {
        const r = planWithConfig(prodConfig());
        expect(r.status).toBe(0);
        const resources = r.resources() as Array<{ type: string; name: string; inputs: Record<string, unknown> }>;
        const step = resources.find((x) => x.name === "backups-install");
        expect(step?.type).toBe("command:remote:Command");
        expect(step?.inputs.stdin).toBe("[secret]");
        const report = fs.readFileSync(path.join(r.outDir, "sovereignty-report.md"), "utf8");
        expect(report).toContain("| backup.example.no | sftp | *-*-* 03:15:00 | daily 7, weekly 4, monthly 6 | backup.example.no is in the allowed domains (.no) |");
    });

    it("a foreign target fails the plan with a mandatory violation", () => {
        const cfg = prodConfig() as Record<string, any>;
        const backups = { ...cfg["sovereign-faas:backups"], target: { ...cfg["sovereign-faas:backups"].target, host: "backup.example.de" } };
        const r = planWithConfig({ ...cfg, "sovereign-faas:backups": backups });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("[backup-target-local] command:remote:Command backups-install: backups-install must keep backups in the allowed jurisdiction: its sftp target backup.example.de is outside the allowed domains (.no).");
    });
});
