/**
 * Kubernetes objects for one function, following the conventions faas-netes uses itself
 * (label `faas_function`, port 8080, probes on `/_/health`), hardened: non-root, no privilege
 * escalation, no capabilities, limits always set. Pure and deterministic.
 */
import { FUNCTION_NAMESPACE, SCALE_MIN_LABEL } from "../shared/edition";
import { memoryMiB } from "../shared/quantity";
import { JURISDICTION_LABEL, Location, REGION_LABEL, SOVEREIGN_DATA_LABEL } from "../shared/labels";
import { sortDeep } from "../shared/sort";
import { FUNCTION_UID, SovereignVolume } from "../volumes/volumes";
import { FunctionSpec, ResourceList } from "./stack-yml";

/** Limits when stack.yml sets none (the seeds' 128 MiB). */
export const DEFAULT_FUNCTION_LIMITS = { cpu: "500m", memory: "128Mi" } as const;
/** Requests when stack.yml sets none. */
export const DEFAULT_FUNCTION_REQUESTS = { cpu: "50m", memory: "64Mi" } as const;
/** The watchdog's port. */
export const FUNCTION_PORT = 8080;
/** Where faas-netes mounts a function's secrets. */
export const SECRETS_MOUNT_PATH = "/var/openfaas/secrets";
/** The pod template annotation listing volumes mounted writable on purpose (read by the policy pack). */
export const WRITABLE_VOLUMES_ANNOTATION = "sovereign-faas.io/writable-volumes";
/** faas-netes' function label. */
export const FUNCTION_LABEL = "faas_function";

export interface FunctionRenderOptions {
    /** Labels added to every function (scale to zero on Pro). */
    readonly extraLabels: Readonly<Record<string, string>>;
    /** Volumes this function mounts. */
    readonly volumes: readonly SovereignVolume[];
    /** The sovereign node's location, for pinning functions that mount volumes. */
    readonly location: Location;
    /**
     * Annotations of the Deployment object itself (not its pods), e.g. the provider's skipAwait.
     * @default {}
     */
    readonly objectAnnotations?: Readonly<Record<string, string>>;
}

function withDefaults(given: ResourceList, defaults: { cpu: string; memory: string }): { cpu: string; memory: string } {
    return { cpu: given.cpu ?? defaults.cpu, memory: given.memory ?? defaults.memory };
}

/**
 * Replicas when the Deployment is created: `com.openfaas.scale.min`, at least 1. After that the
 * scalers own `spec.replicas` (see FUNCTION_DEPLOYMENT_IGNORE_CHANGES); CE's faas-netes also
 * rewrites 0 to 1 on any Deployment labelled faas_function (pkg/handlers/informers.go).
 */
export function initialReplicas(fn: FunctionSpec): number {
    const min = Number(fn.labels[SCALE_MIN_LABEL] ?? 1);
    return Number.isInteger(min) && min >= 1 ? min : 1;
}

/**
 * `spec.replicas` belongs to the scalers once a function exists: CE's alert scaling sets it
 * through faas-netes (replica_updater.go), the Pro autoscaler through the gateway. Pulumi sets it
 * on create only; with server-side apply the Kubernetes provider then drops an ignored field that
 * another field manager owns from its patch (pulumi-kubernetes provider/pkg/await/await.go,
 * handleSSAIgnoreFields), so a `pulumi up` never resets a scaled function.
 */
export const FUNCTION_DEPLOYMENT_IGNORE_CHANGES = ["spec.replicas"] as const;

/** The memory the functions request at their initial replicas, in MiB. */
export function functionsMemoryRequestsMiB(functions: readonly FunctionSpec[]): number {
    return Math.ceil(functions.reduce((sum, fn) => sum + (memoryMiB(fn.requests.memory ?? DEFAULT_FUNCTION_REQUESTS.memory) ?? 0) * initialReplicas(fn), 0));
}

/** The Deployment of a function. */
export function renderFunctionDeployment(fn: FunctionSpec, opts: FunctionRenderOptions): Record<string, unknown> {
    const labels = { ...fn.labels, ...opts.extraLabels, [FUNCTION_LABEL]: fn.name };
    const env = Object.entries({ ...fn.environment, ...(fn.fprocess !== undefined ? { fprocess: fn.fprocess } : {}) })
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ name, value }));
    const volumes: Record<string, unknown>[] = [];
    const mounts: Record<string, unknown>[] = [];
    if (fn.secrets.length > 0) {
        volumes.push({ name: `${fn.name}-projected-secrets`, projected: { sources: [...fn.secrets].sort().map((s) => ({ secret: { name: s } })) } });
        mounts.push({ name: `${fn.name}-projected-secrets`, mountPath: SECRETS_MOUNT_PATH, readOnly: true });
    }
    if (fn.readonlyRootFilesystem) {
        volumes.push({ name: "temp", emptyDir: {} });
        mounts.push({ name: "temp", mountPath: "/tmp", readOnly: false });
    }
    const nodeSelector: Record<string, string> = { ...fn.nodeSelector };
    const podLabels: Record<string, string> = { ...labels };
    const podAnnotations: Record<string, string> = { ...fn.annotations };
    const writable: string[] = [];
    for (const v of [...opts.volumes].sort((a, b) => a.name.localeCompare(b.name))) {
        // type Directory: a missing directory fails the pod instead of silently creating an empty one.
        volumes.push({ name: v.name, hostPath: { path: v.hostPath, type: "Directory" } });
        mounts.push({ name: v.name, mountPath: v.mountPath, readOnly: v.readOnly });
        if (!v.readOnly) {
            writable.push(v.name);
        }
    }
    if (opts.volumes.length > 0) {
        nodeSelector[REGION_LABEL] = opts.location.region;
        nodeSelector[JURISDICTION_LABEL] = opts.location.country;
        podLabels[SOVEREIGN_DATA_LABEL] = "true";
    }
    if (writable.length > 0) {
        podAnnotations[WRITABLE_VOLUMES_ANNOTATION] = writable.join(",");
    }
    const probe = { httpGet: { path: "/_/health", port: FUNCTION_PORT }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 };
    return sortDeep({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: fn.name, namespace: FUNCTION_NAMESPACE, labels, annotations: { ...fn.annotations, ...(opts.objectAnnotations ?? {}) } },
        spec: {
            replicas: initialReplicas(fn),
            selector: { matchLabels: { [FUNCTION_LABEL]: fn.name } },
            template: {
                metadata: { labels: podLabels, annotations: podAnnotations },
                spec: {
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
                    securityContext: { runAsNonRoot: true, runAsUser: FUNCTION_UID, runAsGroup: FUNCTION_UID, fsGroup: FUNCTION_UID, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                        {
                            name: fn.name,
                            image: fn.image,
                            ports: [{ name: "http", containerPort: FUNCTION_PORT, protocol: "TCP" }],
                            env,
                            readinessProbe: probe,
                            livenessProbe: probe,
                            resources: {
                                limits: withDefaults(fn.limits, DEFAULT_FUNCTION_LIMITS),
                                requests: withDefaults(fn.requests, DEFAULT_FUNCTION_REQUESTS),
                            },
                            securityContext: {
                                allowPrivilegeEscalation: false,
                                capabilities: { drop: ["ALL"] },
                                readOnlyRootFilesystem: fn.readonlyRootFilesystem,
                                runAsNonRoot: true,
                            },
                            ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
                        },
                    ],
                    ...(volumes.length > 0 ? { volumes } : {}),
                },
            },
        },
    });
}

/** The ClusterIP Service the gateway calls (directFunctions). Never NodePort. */
export function renderFunctionService(fn: FunctionSpec, annotations: Readonly<Record<string, string>> = {}): Record<string, unknown> {
    return sortDeep({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: fn.name, namespace: FUNCTION_NAMESPACE, labels: { [FUNCTION_LABEL]: fn.name }, ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}) },
        spec: {
            type: "ClusterIP",
            selector: { [FUNCTION_LABEL]: fn.name },
            ports: [{ name: "http", port: FUNCTION_PORT, targetPort: FUNCTION_PORT, protocol: "TCP" }],
        },
    });
}
