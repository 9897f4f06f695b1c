/** `sovereign-faas:backups`: schedule, retention, the target and its credentials (secure values). */
import * as pulumi from "@pulumi/pulumi";

import { BackupSecrets, BackupTarget, isRecord, validateBackupSettings } from "../../components";
import { ConfigReader, fullKey, NOT_SHOWN } from "../config-reader";

export interface BackupsSettings {
    readonly schedule: string;
    readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    readonly checkSubset: string;
    readonly target: BackupTarget;
    readonly secrets: BackupSecrets;
}

export const DEFAULT_BACKUP_SCHEDULE = "*-*-* 03:15:00";
export const DEFAULT_BACKUP_RETENTION = { daily: 7, weekly: 4, monthly: 6 } as const;
export const DEFAULT_CHECK_SUBSET = "5%";

const SHAPE = "{ schedule?, retention?: { daily, weekly, monthly }, checkSubset?, password (secret), target: { kind: sftp, host, port?, user, path, hostKey, privateKey (secret) } | { kind: s3, endpoint, bucket, prefix?, accessKeyId (secret), secretAccessKey (secret) } }";

/** Where a secret leaf of `backups` must be, and whether it must be a secure value. */
const SECRET_LEAVES = ["password", "target.privateKey", "target.accessKeyId", "target.secretAccessKey"] as const;

/** Parses the section; undefined when it is not set (no backups). */
export function parseBackupsConfig(r: ConfigReader, secret: (v: string) => pulumi.Output<string>): BackupsSettings | undefined {
    const o = r.object("backups", SHAPE);
    if (o === undefined || Object.keys(o).length === 0) {
        return undefined;
    }
    r.unknownKeys("backups", o, ["schedule", "retention", "checkSubset", "password", "target"]);
    const retention = isRecord(o.retention) ? o.retention : {};
    if (o.retention !== undefined && !isRecord(o.retention)) {
        r.problems.add(fullKey("backups.retention"), o.retention, "must be a map { daily, weekly, monthly }", "write e.g. retention: { daily: 7, weekly: 4, monthly: 6 }");
    }
    r.unknownKeys("backups.retention", retention, ["daily", "weekly", "monthly"]);
    const t = isRecord(o.target) ? o.target : {};
    if (!isRecord(o.target)) {
        r.problems.add(fullKey("backups.target"), o.target === undefined ? undefined : NOT_SHOWN, "is required: where the backups go (an SFTP host or an S3-compatible endpoint)", "set backups.target: { kind: sftp, host, user, path, hostKey, privateKey } or { kind: s3, endpoint, bucket, accessKeyId, secretAccessKey }");
    }
    const kind = t.kind;
    r.unknownKeys("backups.target", t, kind === "s3" ? ["kind", "endpoint", "bucket", "prefix", "accessKeyId", "secretAccessKey"] : ["kind", "host", "port", "user", "path", "hostKey", "privateKey"]);
    // Credentials must be secure values: written in plain text, they would sit in the stack file.
    for (const leaf of SECRET_LEAVES) {
        const value = leaf === "password" ? o.password : t[leaf.slice("target.".length)];
        if (value !== undefined && !r.isSecret(`backups.${leaf}`)) {
            r.problems.add(fullKey(`backups.${leaf}`), NOT_SHOWN, "must be a secure value: it is a credential", `pulumi config set --secret --path '${fullKey(`backups.${leaf}`)}' <value>`);
        }
        if (value !== undefined && typeof value !== "string") {
            r.problems.add(fullKey(`backups.${leaf}`), NOT_SHOWN, "must be text", "set it with pulumi config set --secret --path");
        }
    }
    const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    const port = t.port === undefined ? undefined : typeof t.port === "number" ? t.port : /^\d+$/.test(String(t.port)) ? Number(t.port) : Number.NaN;
    const target: BackupTarget =
        kind === "s3"
            ? { kind: "s3", endpoint: str(t.endpoint) ?? "", bucket: str(t.bucket) ?? "", ...(t.prefix !== undefined ? { prefix: str(t.prefix) ?? String(t.prefix) } : {}) }
            : ({ kind: (kind ?? "sftp") as "sftp", host: str(t.host) ?? "", ...(port !== undefined ? { port } : {}), user: str(t.user) ?? "", path: str(t.path) ?? "", hostKey: str(t.hostKey) ?? "" } as BackupTarget);
    const num = (v: unknown, d: number): number => (v === undefined ? d : typeof v === "number" ? v : /^\d+$/.test(String(v)) ? Number(v) : Number.NaN);
    const settings = {
        schedule: str(o.schedule) ?? (o.schedule === undefined ? DEFAULT_BACKUP_SCHEDULE : String(o.schedule)),
        retention: { daily: num(retention.daily, DEFAULT_BACKUP_RETENTION.daily), weekly: num(retention.weekly, DEFAULT_BACKUP_RETENTION.weekly), monthly: num(retention.monthly, DEFAULT_BACKUP_RETENTION.monthly) },
        checkSubset: str(o.checkSubset) ?? (o.checkSubset === undefined ? DEFAULT_CHECK_SUBSET : String(o.checkSubset)),
        target,
    };
    const secretOf = (v: unknown): pulumi.Output<string> | undefined => (typeof v === "string" ? secret(v) : undefined);
    const secrets: BackupSecrets = {
        password: secretOf(o.password) as pulumi.Output<string>,
        ...(target.kind === "sftp" ? { sshPrivateKey: secretOf(t.privateKey) } : { accessKeyId: secretOf(t.accessKeyId), secretAccessKey: secretOf(t.secretAccessKey) }),
    };
    const problems = validateBackupSettings({ ...settings, volumeRoots: [], k3s: true, backupHost: "x" }, { password: o.password, sshPrivateKey: t.privateKey, accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, "backups");
    r.problems.addAll(problems.items.map((p) => ({ ...p, key: fullKey(p.key), value: /password|privateKey|accessKey/i.test(p.key) ? NOT_SHOWN : p.value })));
    return { ...settings, secrets };
}
