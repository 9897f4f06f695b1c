import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";

import { Connection } from "../host/connection";
import { Location } from "../shared/labels";
import { childOptions } from "../shared/options";
import { remoteStep } from "../shared/remote-step";
import { isDnsName, Problems } from "../shared/validation";
import { BackupSettings, BackupTarget, renderBackupInstallScript, renderBackupSecretsStdin, renderS3Credentials, repositoryOf } from "./render";

/** The secrets a backup needs; each reaches the host on standard input, into a 0600 file. */
export interface BackupSecrets {
    /** restic's repository password: lose it and the backups cannot be read. */
    readonly password: pulumi.Input<string>;
    /** SFTP: the private key the host logs in to the target with. */
    readonly sshPrivateKey?: pulumi.Input<string>;
    /** S3: the access key pair. */
    readonly accessKeyId?: pulumi.Input<string>;
    readonly secretAccessKey?: pulumi.Input<string>;
}

export interface SovereignBackupsArgs {
    readonly connection: Connection;
    readonly user: string;
    readonly location: Location;
    readonly settings: BackupSettings;
    readonly secrets: BackupSecrets;
}

const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$/;
const ON_CALENDAR = /^[A-Za-z0-9 *:,./~-]{1,100}$/;

/** Every problem of backup settings and secrets, keys relative to `key` (e.g. `backups`). */
export function validateBackupSettings(s: BackupSettings, secrets: Partial<Record<keyof BackupSecrets, unknown>>, key = "backups"): Problems {
    const p = new Problems();
    if (!ON_CALENDAR.test(s.schedule)) {
        p.add(`${key}.schedule`, s.schedule, "must be a systemd OnCalendar expression (letters, digits, spaces and * : , . / ~ -)", 'use e.g. "daily" or "*-*-* 03:15:00" (check it with systemd-analyze calendar)');
    }
    for (const [k, max] of [["daily", 366], ["weekly", 520], ["monthly", 1200]] as const) {
        const v = s.retention[k];
        if (!Number.isInteger(v) || v < 0 || v > max) {
            p.add(`${key}.retention.${k}`, v, `must be a whole number from 0 to ${max}`, "keep e.g. 7 daily, 4 weekly and 6 monthly snapshots");
        }
    }
    if (s.retention.daily + s.retention.weekly + s.retention.monthly === 0) {
        p.add(`${key}.retention`, s.retention, "keeps no snapshot at all: every run would forget what it backed up", "keep at least one daily snapshot");
    }
    if (!/^([1-9]\d?|100)(\.\d+)?%$/.test(s.checkSubset)) {
        p.add(`${key}.checkSubset`, s.checkSubset, "must be a percentage from 1% to 100%", 'use e.g. "5%"');
    }
    const t: BackupTarget = s.target;
    if (t.kind === "sftp") {
        if (typeof t.host !== "string" || !(isIP(t.host) !== 0 || (isDnsName(t.host) && t.host.includes(".")))) {
            p.add(`${key}.target.host`, t.host, "must be an IP address or a fully qualified DNS name", "use the backup host's address, e.g. backup.example.no");
        }
        if (t.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)) {
            p.add(`${key}.target.port`, t.port, "must be a whole number from 1 to 65535", "use 22, or the port the target's sshd listens on");
        }
        if (typeof t.user !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(t.user)) {
            p.add(`${key}.target.user`, t.user, "must be a Linux user name (lower case, at most 32 characters)", "use the backup user on the target, e.g. backup");
        }
        if (typeof t.path !== "string" || !/^\/[A-Za-z0-9._/-]*$/.test(t.path) || t.path.split("/").includes("..") || t.path === "/") {
            p.add(`${key}.target.path`, t.path, "must be an absolute path of letters, digits and . _ - / (no ..), not /", "use e.g. /srv/restic/vps1");
        }
        if (typeof t.hostKey !== "string" || !HOST_KEY.test(t.hostKey.trim())) {
            p.add(`${key}.target.hostKey`, t.hostKey, "is required and must be a public host key line like `ssh-ed25519 AAAA...`: the target's key is pinned, never learned on first use", "copy it from `ssh-keyscan -t ed25519 <target>` (without the host name)");
        }
        if (secrets.sshPrivateKey === undefined) {
            p.add(`${key}.target.privateKey`, undefined, "is required for an SFTP target: the host logs in to it with this key", `pulumi config set --secret --path 'sovereign-faas:${key}.target.privateKey' < backup_key`);
        }
    } else if (t.kind === "s3") {
        let url: URL | undefined;
        try {
            url = new URL(t.endpoint);
        } catch {
            url = undefined;
        }
        if (url === undefined || url.protocol !== "https:" || url.pathname.replace(/\/+$/, "") !== "" || url.search !== "" || url.username !== "" || url.password !== "") {
            p.add(`${key}.target.endpoint`, t.endpoint, "must be an https:// URL of the S3-compatible endpoint, with no path, query or credentials", "use e.g. https://s3.example.no");
        }
        if (typeof t.bucket !== "string" || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(t.bucket)) {
            p.add(`${key}.target.bucket`, t.bucket, "must be an S3 bucket name (3 to 63 lower-case letters, digits, . and -)", "use e.g. vps1-backups");
        }
        if (t.prefix !== undefined && (typeof t.prefix !== "string" || !/^[A-Za-z0-9._/-]*$/.test(t.prefix) || t.prefix.split("/").includes(".."))) {
            p.add(`${key}.target.prefix`, t.prefix, "must be a path of letters, digits and . _ - / (no ..)", "use e.g. vps1");
        }
        for (const k of ["accessKeyId", "secretAccessKey"] as const) {
            if (secrets[k] === undefined) {
                p.add(`${key}.target.${k}`, undefined, "is required for an S3 target", `pulumi config set --secret --path 'sovereign-faas:${key}.target.${k}' <value>`);
            }
        }
    } else {
        p.add(`${key}.target.kind`, (t as { kind: unknown }).kind, "must be sftp or s3", "back up to another host over SFTP, or to an S3-compatible endpoint");
    }
    if (secrets.password === undefined) {
        p.add(`${key}.password`, undefined, "is required: restic encrypts every backup with it (lose it and the backups cannot be read)", `pulumi config set --secret --path 'sovereign-faas:${key}.password' "$(openssl rand -base64 32)"`);
    }
    return p;
}

/**
 * Scheduled, encrypted, deduplicated backups of the K3s datastore (with its token) and the
 * sovereign volumes, with restic, to a target the policy pack judges (`backup-target-local`).
 * One remote step installs the scripts, the units and the secrets (from standard input) and
 * enables the timer; it never runs a backup itself. `pulumi destroy` leaves the timer, the
 * scripts and every repository as they are (no delete step): stopping backups is
 * `systemctl disable --now sovereign-backup.timer` on the host, and a repository is deleted only
 * on its target, by hand.
 */
export class SovereignBackups extends pulumi.ComponentResource {
    readonly command: command.remote.Command;
    /** The restic repository (no secrets in it). */
    readonly repository: string;

    constructor(name: string, args: SovereignBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        validateBackupSettings(args.settings, args.secrets).throwIfAny(`SovereignBackups ${name}: invalid arguments`);
        super("sovereign-faas:backups:SovereignBackups", name, {}, opts);
        const s = args.settings;
        const secretInputs: Record<string, pulumi.Input<string>> =
            s.target.kind === "sftp"
                ? { "restic-password": args.secrets.password, "ssh-key": args.secrets.sshPrivateKey as pulumi.Input<string> }
                : {
                      "restic-password": args.secrets.password,
                      "s3-credentials": pulumi.all([args.secrets.accessKeyId as pulumi.Input<string>, args.secrets.secretAccessKey as pulumi.Input<string>]).apply(([id, key]) => renderS3Credentials(id, key)),
                  };
        const stdin = pulumi.secret(pulumi.all(secretInputs).apply((values) => renderBackupSecretsStdin(values)));
        this.repository = repositoryOf(s.target);
        this.command = remoteStep(
            `${name}-install`,
            { connection: args.connection, user: args.user, step: "backups", script: renderBackupInstallScript(s, args.location), stdin },
            childOptions(this, opts),
        );
        this.registerOutputs({ repository: this.repository });
    }
}
