/**
 * Backups are data locations: a backup abroad breaks the promise as surely as a function that
 * writes abroad. The backups step stamps its target into its script (components/backups
 * render.ts, `# sovereign-faas-backup-target: {...}`); this rule judges it like any other
 * destination: allowed domains and foreign storage for names, registry evidence for addresses.
 */
import { endpointOf, judgeEndpoint } from "./endpoints";
import { REMOTE_COMMAND, remoteStep } from "./inspect";
import { DATASET_LABEL, describeEvidence, registryEvidence } from "./registry";
import { isObject, isUnknown, PackConfig, ResourceView, Rule } from "./types";

export const BACKUP_TARGET_STAMP = "# sovereign-faas-backup-target: ";

export interface BackupTargetView {
    readonly kind: string;
    /** Where the data goes: the SFTP host, or the S3 endpoint URL. */
    readonly where: string;
    readonly bucket?: string;
}

/** The target a backups step declares, "unknown" when it cannot be read, undefined for other resources. */
export function backupTargetOf(r: ResourceView): BackupTargetView | "unknown" | undefined {
    if (r.type !== REMOTE_COMMAND || remoteStep(r) !== "backups") {
        return undefined;
    }
    const create = r.props.create;
    if (typeof create !== "string" || isUnknown(create)) {
        return "unknown";
    }
    const line = create.split("\n").find((l) => l.startsWith(BACKUP_TARGET_STAMP));
    try {
        const stamp = line === undefined ? undefined : (JSON.parse(line.slice(BACKUP_TARGET_STAMP.length)) as unknown);
        if (isObject(stamp) && stamp.kind === "sftp" && typeof stamp.host === "string") {
            return { kind: "sftp", where: stamp.host };
        }
        if (isObject(stamp) && stamp.kind === "s3" && typeof stamp.endpoint === "string") {
            return { kind: "s3", where: stamp.endpoint, ...(typeof stamp.bucket === "string" ? { bucket: stamp.bucket } : {}) };
        }
    } catch {
        // fall through: unreadable is unknown
    }
    return "unknown";
}

/** Why a target is not acceptable, or undefined. */
export function backupTargetProblem(t: BackupTargetView, config: PackConfig): string | undefined {
    const endpoint = endpointOf(t.where);
    if (endpoint === undefined) {
        return `${t.where} is not a host name or address, so where the backups go cannot be checked`;
    }
    const verdict = judgeEndpoint(endpoint, config);
    return verdict.ok ? undefined : verdict.detail;
}

export const backupTargetLocal: Rule = {
    name: "backup-target-local",
    description: "Checks whether every backup target (an SFTP host or an S3-compatible endpoint) is in the allowed domains and not foreign storage, and, when it is an address, registered in an allowed country.",
    enforcementLevel: "mandatory",
    settings: ["allowedCountries", "allowedEgressDomains", "clusterNamespaces", "foreignStoragePatterns"],
    checkResource(r, config) {
        const t = backupTargetOf(r);
        if (t === undefined) {
            return [];
        }
        if (t === "unknown") {
            return [`${r.name} must declare where its backups go (a "${BACKUP_TARGET_STAMP.trim()} {...}" line in its script), so the target's location can be checked.`];
        }
        const problem = backupTargetProblem(t, config);
        return problem === undefined ? [] : [`${r.name} must keep backups in the allowed jurisdiction: its ${t.kind} target ${problem}.`];
    },
};

/** For the report: each target with its evidence. */
export function backupReport(resources: readonly ResourceView[], config: PackConfig): Array<{ kind: string; target: string; usedBy: string; evidence: string }> {
    const out: Array<{ kind: string; target: string; usedBy: string; evidence: string }> = [];
    for (const r of resources) {
        const t = backupTargetOf(r);
        if (t === undefined || t === "unknown") {
            continue;
        }
        const endpoint = endpointOf(t.where);
        let evidence = "not a host";
        if (endpoint !== undefined) {
            const problem = backupTargetProblem(t, config);
            if (endpoint.kind === "ip") {
                const e = registryEvidence(endpoint.host);
                evidence = `${e === undefined ? "no registry answer" : describeEvidence(e)} (${DATASET_LABEL})`;
            } else {
                evidence = problem === undefined ? `${endpoint.host} is in the allowed domains (${config.allowedEgressDomains.join(", ")})` : problem;
            }
        }
        out.push({ kind: t.kind, target: t.kind === "s3" ? `${t.where} bucket ${t.bucket ?? ""}` : t.where, usedBy: r.name, evidence });
    }
    return out;
}
