/**
 * Sovereign volumes: directories on the host in the allowed jurisdiction, created over SSH
 * before any workload uses them, mounted read-only by default. Validation and the script are
 * pure; the component is a thin wrapper.
 */
import * as path from "path";

import { isDns1123Label, isRecord, Problems } from "../shared/validation";

/** Where sovereign data may live unless configured otherwise. Outside /var/lib/rancher, so `k3s-uninstall.sh` keeps it. */
export const DEFAULT_SOVEREIGN_ROOTS = ["/data/sovereign"] as const;
/** The uid functions run as; volumes are owned by it unless `owner` says otherwise. */
export const FUNCTION_UID = 10000;
/** Mode of a sovereign directory: the owner only. */
export const VOLUME_MODE = "700";
/** Paths a volume may never be in (system, kernel, K3s state). */
export const FORBIDDEN_ROOTS = ["/etc", "/proc", "/sys", "/dev", "/boot", "/usr", "/bin", "/sbin", "/lib", "/run", "/var/run", "/var/lib/rancher", "/root"] as const;
/** Mount paths a volume may not shadow: the writable /tmp, the function code and the secrets. */
export const RESERVED_MOUNT_PATHS = ["/tmp", "/home/app", "/var/openfaas"] as const;
/**
 * The container's system directories: a mount at, under or above one replaces its files (a mount
 * at /etc/ssl swaps the CA bundle, at /usr/bin the binaries), so host data would be executed or
 * trusted as the image's own.
 */
export const SYSTEM_MOUNT_PATHS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/run", "/var/lib/dpkg", "/var/lib/apt"] as const;

const hasControl = (v: string): boolean => /[\u0000-\u001f\u007f]/.test(v);

/** A validated sovereign volume. */
export interface SovereignVolume {
    /** DNS-1123 name; also the pod volume's name. */
    readonly name: string;
    /** Absolute, normalized directory on the host, under a sovereign root. */
    readonly hostPath: string;
    /** Where functions see it. */
    readonly mountPath: string;
    /** Mounted read-only unless false. */
    readonly readOnly: boolean;
    /** Functions that mount it. */
    readonly functions: readonly string[];
    /** Owner uid of the directory. */
    readonly owner: number;
    /** Refuse a directory that is not on an encrypted (dm-crypt/LUKS) device. */
    readonly requireEncryption: boolean;
}

function under(p: string, root: string): boolean {
    return root === "/" ? true : p === root || p.startsWith(`${root}/`);
}

export interface ValidateVolumesOptions {
    readonly sovereignRoots: readonly string[];
    readonly functionNames: readonly string[];
    /** How the user typed the list, e.g. `sovereign-faas:volumes`. */
    readonly configKey: string;
}

/** Validates raw volume entries; reports every problem at once. */
export function validateVolumes(raw: unknown, opts: ValidateVolumesOptions): { volumes: SovereignVolume[]; problems: Problems } {
    const problems = new Problems();
    const volumes: SovereignVolume[] = [];
    if (raw === undefined) {
        return { volumes, problems };
    }
    if (!Array.isArray(raw)) {
        problems.add(opts.configKey, raw, "must be a list of { name, hostPath, mountPath, readOnly?, functions, owner?, requireEncryption? }", "write it as a YAML list");
        return { volumes, problems };
    }
    const known = new Set(opts.functionNames);
    const names = new Set<string>();
    /** Each accepted volume's index in the list, for messages. */
    const indexes: number[] = [];
    raw.forEach((item, i) => {
        const key = (f: string): string => `${opts.configKey}[${i}].${f}`;
        if (!isRecord(item)) {
            problems.add(`${opts.configKey}[${i}]`, item, "must be a map", "write { name, hostPath, mountPath, functions }");
            return;
        }
        for (const k of Object.keys(item)) {
            if (!["name", "hostPath", "mountPath", "readOnly", "functions", "owner", "requireEncryption"].includes(k)) {
                problems.add(key(k), item[k], "is not a volume setting", "remove it or fix its spelling");
            }
        }
        const name = item.name;
        if (typeof name !== "string" || !isDns1123Label(name)) {
            problems.add(key("name"), name, "must be a DNS-1123 label (lower-case letters, digits, '-')", "rename it, e.g. user-profiles");
        } else if (names.has(name)) {
            problems.add(key("name"), name, "is used by another volume", "give each volume its own name");
        } else {
            names.add(name);
        }
        const hostPath = item.hostPath;
        let hostOk = false;
        if (typeof hostPath === "string" && hasControl(hostPath)) {
            problems.add(key("hostPath"), hostPath, "holds a control character (a NUL, newline or escape): the kernel would cut the path there", "write the path without control characters");
        } else if (typeof hostPath !== "string" || !path.posix.isAbsolute(hostPath)) {
            problems.add(key("hostPath"), hostPath, "must be an absolute path", `put it under ${opts.sovereignRoots[0] ?? DEFAULT_SOVEREIGN_ROOTS[0]}`);
        } else if (hostPath.split("/").includes("..") || hostPath.split("/").includes(".")) {
            problems.add(key("hostPath"), hostPath, "must not contain '..' or '.' (it could escape the sovereign root)", "write the real, normalized path");
        } else if (path.posix.normalize(hostPath) !== hostPath || (hostPath.length > 1 && hostPath.endsWith("/"))) {
            problems.add(key("hostPath"), hostPath, "must be normalized (no '//' and no trailing '/')", `write ${path.posix.normalize(hostPath).replace(/\/$/, "")}`);
        } else if (hostPath === "/" || FORBIDDEN_ROOTS.some((r) => under(hostPath, r))) {
            problems.add(key("hostPath"), hostPath, `must not be / or under ${FORBIDDEN_ROOTS.join(", ")} (system files and K3s state; k3s-uninstall.sh deletes /var/lib/rancher)`, `put it under ${opts.sovereignRoots[0] ?? DEFAULT_SOVEREIGN_ROOTS[0]}`);
        } else if (!opts.sovereignRoots.some((root) => hostPath !== root && under(hostPath, root))) {
            problems.add(key("hostPath"), hostPath, `must lie below a sovereign root ${JSON.stringify(opts.sovereignRoots)}`, `move it under ${opts.sovereignRoots[0]}, or add its root to sovereign-faas:sovereignRoots`);
        } else {
            hostOk = true;
        }
        const mountPath = item.mountPath;
        if (typeof mountPath === "string" && hasControl(mountPath)) {
            problems.add(key("mountPath"), mountPath, "holds a control character (a NUL, newline or escape)", "write the path without control characters");
        } else if (typeof mountPath !== "string" || !path.posix.isAbsolute(mountPath) || path.posix.normalize(mountPath) !== mountPath || mountPath === "/" || mountPath.endsWith("/")) {
            problems.add(key("mountPath"), mountPath, "must be an absolute, normalized path other than /", "use e.g. /data/profiles");
        } else if (SYSTEM_MOUNT_PATHS.some((r) => under(mountPath, r) || under(r, mountPath))) {
            problems.add(key("mountPath"), mountPath, `must not be at, under or above a system directory (${SYSTEM_MOUNT_PATHS.join(", ")}): the host's files would replace the image's own`, "use a path of its own, e.g. /data/profiles");
        } else if (RESERVED_MOUNT_PATHS.some((r) => under(mountPath, r) || under(r, mountPath))) {
            problems.add(key("mountPath"), mountPath, `must not shadow ${RESERVED_MOUNT_PATHS.join(", ")} (the writable /tmp, the function's code, its secrets)`, "use a path of its own, e.g. /data/profiles");
        }
        if (item.readOnly !== undefined && typeof item.readOnly !== "boolean") {
            problems.add(key("readOnly"), item.readOnly, "must be true or false", "write it without quotes");
        }
        if (item.requireEncryption !== undefined && typeof item.requireEncryption !== "boolean") {
            problems.add(key("requireEncryption"), item.requireEncryption, "must be true or false", "write it without quotes");
        }
        const owner = item.owner ?? FUNCTION_UID;
        if (typeof owner !== "number" || !Number.isInteger(owner) || owner < 0 || owner > 2147483647) {
            problems.add(key("owner"), item.owner, "must be a numeric uid", `use ${FUNCTION_UID}, the uid functions run as`);
        }
        const fns = item.functions;
        if (!Array.isArray(fns) || fns.length === 0 || !fns.every((f) => typeof f === "string")) {
            problems.add(key("functions"), fns, "must list the functions that mount the volume", "list function names from stack.yml");
        } else {
            for (const f of fns) {
                if (!known.has(f)) {
                    problems.add(key("functions"), f, "is not a function in the stack.yml", `use one of: ${[...known].sort().join(", ") || "(no functions)"}`);
                }
            }
        }
        if (typeof name === "string" && hostOk && typeof mountPath === "string" && Array.isArray(fns)) {
            indexes.push(i);
            volumes.push({
                name,
                hostPath: hostPath as string,
                mountPath,
                readOnly: item.readOnly !== false,
                functions: [...(fns as string[])].sort(),
                owner: typeof owner === "number" ? owner : FUNCTION_UID,
                requireEncryption: item.requireEncryption === true,
            });
        }
    });
    problems.addAll(overlapProblems(volumes, indexes, opts.configKey).items);
    return { volumes, problems };
}

/**
 * Volumes that see the same data twice or shadow each other: a hostPath at or inside another's
 * (a read-only volume and a writable one over the same files make the data writable after
 * all), or two mounts of one function at the same path or one inside the other.
 */
function overlapProblems(volumes: readonly SovereignVolume[], indexes: readonly number[], configKey: string): Problems {
    const problems = new Problems();
    const at = (v: SovereignVolume): string => `${configKey}[${indexes[volumes.indexOf(v)]}]`;
    for (const [i, a] of volumes.entries()) {
        for (const b of volumes.slice(i + 1)) {
            if (under(a.hostPath, b.hostPath) || under(b.hostPath, a.hostPath)) {
                const inner = under(a.hostPath, b.hostPath) ? a : b;
                const outer = inner === a ? b : a;
                problems.add(
                    `${at(inner)}.hostPath`,
                    inner.hostPath,
                    `is ${inner.hostPath === outer.hostPath ? "the same directory as" : "inside"} volume ${outer.name}'s ${outer.hostPath}${inner.readOnly !== outer.readOnly ? ", and one of them is writable: the read-only one's data would be writable through the other" : ": the same data would be mounted twice"}`,
                    "give each volume a directory of its own, side by side under the sovereign root",
                );
            }
            for (const fn of a.functions.filter((f) => b.functions.includes(f))) {
                if (under(a.mountPath, b.mountPath) || under(b.mountPath, a.mountPath)) {
                    problems.add(`${at(b)}.mountPath`, b.mountPath, `${a.mountPath === b.mountPath ? "is the same mount path as" : "nests with"} volume ${a.name}'s ${a.mountPath} in function ${fn}: one mount would hide the other`, "mount each volume at a path of its own, side by side");
                }
            }
        }
    }
    return problems;
}

/**
 * Pod Security labels for the functions' namespace. Baseline and restricted forbid hostPath
 * volumes outright (pod-security-admission check_hostPathVolumes), so a namespace with sovereign
 * volumes must enforce `privileged`, and warns at it too: a warning on every function that mounts
 * its own sovereign data would only teach people to ignore warnings. The audit log still records
 * every pod against `restricted`; every function is rendered non-root with no privilege
 * escalation, all capabilities dropped and RuntimeDefault seccomp; and the policy pack checks
 * each hostPath (under a sovereign root, type Directory, read-only, pinned).
 */
export function functionNamespacePodSecurityLabels(hasHostPathVolumes: boolean): Record<string, string> {
    const level = hasHostPathVolumes ? "privileged" : "restricted";
    return {
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": level,
    };
}
