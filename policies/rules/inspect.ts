/**
 * Readers for what our resources carry. These strings are the public contract between the
 * sovereign-faas components and this pack (duplicated on purpose: the pack imports nothing
 * from the library, so it judges any stack, ours or another team's).
 */
import * as yaml from "js-yaml";
import * as path from "path";

import { isObject, ResourceView } from "./types";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCATION_STAMP = "# sovereign-faas-location: ";
export const REGION_LABEL = "topology.kubernetes.io/region";
export const JURISDICTION_LABEL = "sovereign-faas.io/jurisdiction";
export const WRITABLE_VOLUMES_ANNOTATION = "sovereign-faas.io/writable-volumes";
export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
export const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

const WORKLOADS: Record<string, (props: Record<string, unknown>) => unknown> = {
    "kubernetes:apps/v1:Deployment": (p) => dig(p, "spec", "template"),
    "kubernetes:apps/v1:StatefulSet": (p) => dig(p, "spec", "template"),
    "kubernetes:apps/v1:DaemonSet": (p) => dig(p, "spec", "template"),
    "kubernetes:apps/v1:ReplicaSet": (p) => dig(p, "spec", "template"),
    "kubernetes:batch/v1:Job": (p) => dig(p, "spec", "template"),
    "kubernetes:batch/v1:CronJob": (p) => dig(p, "spec", "jobTemplate", "spec", "template"),
    "kubernetes:core/v1:Pod": (p) => p,
};

export function dig(v: unknown, ...keys: string[]): unknown {
    let cur = v;
    for (const k of keys) {
        if (!isObject(cur)) {
            return undefined;
        }
        cur = cur[k];
    }
    return cur;
}

/** The pod template (metadata + spec) of a workload, or undefined for other types. */
export function podTemplate(r: ResourceView): { metadata: Record<string, unknown>; spec: Record<string, unknown> } | undefined {
    const get = WORKLOADS[r.type];
    if (get === undefined) {
        return undefined;
    }
    const t = get(r.props);
    if (!isObject(t) || !isObject(t.spec)) {
        return undefined;
    }
    return { metadata: isObject(t.metadata) ? t.metadata : {}, spec: t.spec };
}

export interface HostPathUse {
    readonly volume: string;
    readonly path: unknown;
    readonly type: unknown;
    /** readOnly of each mount of this volume, by container. */
    readonly mounts: { container: string; readOnly: boolean }[];
}

/** Every hostPath volume of a pod spec, with its mounts. */
export function hostPathsOf(spec: Record<string, unknown>): HostPathUse[] {
    const volumes = Array.isArray(spec.volumes) ? spec.volumes.filter(isObject) : [];
    const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])].filter(isObject);
    return volumes
        .filter((v) => isObject(v.hostPath))
        .map((v) => {
            const hp = v.hostPath as Record<string, unknown>;
            const mounts = containers.flatMap((c) =>
                (Array.isArray(c.volumeMounts) ? c.volumeMounts.filter(isObject) : [])
                    .filter((m) => m.name === v.name)
                    .map((m) => ({ container: String(c.name), readOnly: m.readOnly === true })),
            );
            return { volume: String(v.name), path: hp.path, type: hp.type, mounts };
        });
}

/** Whether a path is normalized and strictly below one of the roots. */
export function underRoot(p: string, roots: readonly string[]): boolean {
    return path.posix.isAbsolute(p) && path.posix.normalize(p) === p && !p.endsWith("/") && roots.some((r) => p.startsWith(`${r}/`));
}

/** The location stamp of a remote command's script, if any. */
export function locationStamp(r: ResourceView): { country?: unknown; region?: unknown } | undefined {
    const create = r.props.create;
    if (typeof create !== "string") {
        return undefined;
    }
    const i = create.indexOf(LOCATION_STAMP);
    if (i < 0) {
        return undefined;
    }
    const line = create.slice(i + LOCATION_STAMP.length).split("\n")[0];
    try {
        const v = JSON.parse(line);
        return isObject(v) ? v : undefined;
    } catch {
        return undefined;
    }
}

/** The step a remote command runs (`... sovereign-faas-<step>`). */
export function remoteStep(r: ResourceView): string | undefined {
    const create = r.props.create;
    return typeof create === "string" ? /sovereign-faas-([a-z0-9-]+)\n?$/.exec(create)?.[1] : undefined;
}

/** Whether a region is acceptable: listed, or (no list) a subdivision of an allowed country. */
export function regionAllowed(region: string, allowedCountries: readonly string[], allowedRegions: readonly string[]): boolean {
    return allowedRegions.length > 0 ? allowedRegions.includes(region) : allowedCountries.some((c) => region.startsWith(`${c}-`));
}

/** Where the K3s step writes its flags. */
export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";

/**
 * The K3s config.yaml a remote command installs (the heredoc after `install_file
 * /etc/rancher/k3s/config.yaml`), parsed; undefined when the command installs none. A config that
 * does not parse is returned as `{ unparsable: <reason> }`, so a rule can refuse it.
 */
export function k3sConfigOf(r: ResourceView): Record<string, unknown> | undefined {
    if (r.type !== REMOTE_COMMAND || typeof r.props.create !== "string") {
        return undefined;
    }
    const m = new RegExp(`install_file ${K3S_CONFIG_PATH.replace(/[.]/g, "\\.")} \\d+ <<'([A-Za-z0-9_]+)'\\n([\\s\\S]*?)\\n\\1\\n`).exec(r.props.create);
    if (m === null) {
        return undefined;
    }
    try {
        const doc = yaml.load(m[2], { json: true });
        return isObject(doc) ? doc : {};
    } catch (err) {
        return { unparsable: (err as Error).message.split("\n")[0] };
    }
}
