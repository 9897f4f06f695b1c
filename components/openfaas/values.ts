/**
 * Helm values for the OpenFaaS chart (faas-netes `openfaas`), rendered as pure functions.
 * Every key set here exists in the chart's default values (components/openfaas/reference/,
 * checked by tests); the removed `faasIdler` and `queueMode` are never set.
 */
import { Edition, FUNCTION_NAMESPACE, SCALE_ZERO_DURATION_LABEL, SCALE_ZERO_LABEL } from "../shared/edition";
import { memoryMiB } from "../shared/quantity";
import { sortDeep } from "../shared/sort";
import { isRecord } from "../shared/validation";

/** The chart repository. */
export const OPENFAAS_CHART_REPO = "https://openfaas.github.io/faas-netes/";
/** Pinned chart version (newest at faas-netes commit 662ce9ce, 2026-05-13). */
export const DEFAULT_OPENFAAS_CHART_VERSION = "15.0.6";
/** The longest a synchronous function may run, by default: the seeds' 300 s proxy timeouts. */
export const DEFAULT_GATEWAY_TIMEOUT_SECONDS = 300;
/** Read and write timeouts exceed the upstream timeout by this much (the chart's own 1m / 1m05s). */
export const GATEWAY_TIMEOUT_MARGIN_SECONDS = 5;
/** Gateway replicas by default. */
export const DEFAULT_GATEWAY_REPLICAS = 1;
/** Idle time before a function scales to zero (Pro), by default. */
export const DEFAULT_IDLE_DURATION_SECONDS = 15 * 60;
/** The user the chart's containers run as. */
export const OPENFAAS_RUN_AS_USER = 10001;

export interface GatewayTimeouts {
    readonly readTimeout: string;
    readonly writeTimeout: string;
    readonly upstreamTimeout: string;
}

/**
 * The gateway's timeouts for a function timeout. The upstream timeout is the function's time;
 * read and write must be strictly larger, or the gateway cuts the connection before the
 * function's answer arrives.
 */
export function deriveGatewayTimeouts(timeoutSeconds: number): GatewayTimeouts {
    const outer = `${timeoutSeconds + GATEWAY_TIMEOUT_MARGIN_SECONDS}s`;
    return { readTimeout: outer, writeTimeout: outer, upstreamTimeout: `${timeoutSeconds}s` };
}

export interface OpenFaasValuesOptions {
    readonly edition: Edition;
    /** Function timeout (gateway upstream timeout), seconds. */
    readonly gatewayTimeoutSeconds: number;
    readonly gatewayReplicas: number;
    /** Labels of the sovereign node; every pod of the chart is pinned to it. */
    readonly nodeSelector: Readonly<Record<string, string>>;
    /** CE queue: workers and ack wait (seconds). */
    readonly queue: { readonly workers: number; readonly ackWaitSeconds: number };
    /** Pro: concurrent messages per queue-worker, and the default queue's retry settings. */
    readonly proQueue?: { readonly maxInflight: number };
}

/** Renders the chart values for an edition. */
export function renderOpenFaasValues(opts: OpenFaasValuesOptions): Record<string, unknown> {
    const t = deriveGatewayTimeouts(opts.gatewayTimeoutSeconds);
    const values: Record<string, unknown> = {
        basic_auth: true,
        // We create the basic-auth Secret from a password kept in Pulumi state; the chart's
        // own generator would invent a new one in a hook.
        generateBasicAuth: false,
        // The NGINX ingress is the only way in: no NodePort / LoadBalancer for the gateway.
        exposeServices: false,
        functionNamespace: FUNCTION_NAMESPACE,
        functions: { setNonRootUser: true },
        gateway: {
            directFunctions: true,
            readTimeout: t.readTimeout,
            replicas: opts.gatewayReplicas,
            resources: { requests: { cpu: "100m", memory: "120Mi" } },
            upstreamTimeout: t.upstreamTimeout,
            writeTimeout: t.writeTimeout,
        },
        nodeSelector: { ...opts.nodeSelector },
        openfaasPro: opts.edition === "pro",
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            runAsNonRoot: true,
            runAsUser: OPENFAAS_RUN_AS_USER,
        },
        nats: { resources: { requests: { cpu: "100m", memory: "120Mi" } } },
        prometheus: { resources: { requests: { cpu: "100m", memory: "512Mi" } } },
    };
    if (opts.edition === "ce") {
        values.queueWorker = {
            ackWait: `${opts.queue.ackWaitSeconds}s`,
            replicas: opts.queue.workers,
            resources: { requests: { cpu: "50m", memory: "120Mi" } },
        };
        values.faasnetes = { resources: { requests: { cpu: "100m", memory: "120Mi" } } };
    } else {
        // The Pro autoscaler scales between min and max and, for functions labelled
        // com.openfaas.scale.zero (see scaleToZeroLabels), to zero.
        values.autoscaler = { enabled: true, resources: { requests: { cpu: "100m", memory: "128Mi" } } };
        values.jetstreamQueueWorker = { mode: "static" };
        // The JetStream queue-worker reads queueWorker.ackWait too: left at the chart's 60s, a
        // message would be redelivered while a longer function still runs.
        values.queueWorker = { ackWait: `${opts.queue.ackWaitSeconds}s`, replicas: opts.queue.workers };
        values.queueWorkerPro = { maxInflight: opts.proQueue?.maxInflight ?? 1 };
        // Pro runs the provider from the faasnetes block (operator.* applies only with operator.create).
        values.faasnetes = { resources: { requests: { cpu: "100m", memory: "120Mi" } } };
        values.operator = { resources: { requests: { cpu: "50m", memory: "120Mi" } } };
    }
    return sortDeep(values);
}

/** Per-function labels for Pro scale to zero, e.g. `com.openfaas.scale.zero-duration: 15m`. */
export function scaleToZeroLabels(idleSeconds: number): Record<string, string> {
    const duration = idleSeconds % 60 === 0 ? `${idleSeconds / 60}m` : `${idleSeconds}s`;
    return { [SCALE_ZERO_LABEL]: "true", [SCALE_ZERO_DURATION_LABEL]: duration };
}

/** Every leaf path of a values object, dotted (`gateway.readTimeout`). */
export function valuePaths(values: unknown, prefix = ""): string[] {
    if (!isRecord(values) || Object.keys(values).length === 0) {
        return prefix === "" ? [] : [prefix];
    }
    return Object.entries(values).flatMap(([k, v]) => valuePaths(v, prefix === "" ? k : `${prefix}.${k}`));
}

/**
 * Paths in `values` that the chart's reference values do not have. A map in the reference
 * that is empty (`nodeSelector: {}`, `securityContext: {}`) accepts any keys below it.
 */
export function unknownValuePaths(values: unknown, reference: unknown): string[] {
    const unknown: string[] = [];
    const walk = (v: unknown, ref: unknown, prefix: string): void => {
        if (!isRecord(v)) {
            return;
        }
        for (const [k, child] of Object.entries(v)) {
            const p = prefix === "" ? k : `${prefix}.${k}`;
            if (!isRecord(ref) || !(k in ref)) {
                unknown.push(p);
                continue;
            }
            const refChild = ref[k];
            if (isRecord(refChild) && Object.keys(refChild).length === 0) {
                continue; // free-form map in the chart
            }
            if (isRecord(child) && (isRecord(refChild) || refChild === null || refChild === undefined)) {
                if (isRecord(refChild)) {
                    walk(child, refChild, p);
                }
            }
        }
    };
    walk(values, reference, "");
    return unknown;
}

export interface MergedValues {
    readonly values: Record<string, unknown>;
    /** One line per path where the user's helmValues replace a value we set on purpose. */
    readonly warnings: string[];
}

/**
 * Values that decide where pods run: a nodeSelector, affinity or tolerations of their own would
 * schedule the OpenFaaS core (or any chart pod) on a node of another jurisdiction, past the
 * location pinning the platform sets. The chart reads them at the top level and per component
 * (faas-netes chart values.yaml: nodeSelector, affinity, tolerations).
 */
export const PLACEMENT_KEYS = ["nodeSelector", "affinity", "tolerations", "topologySpreadConstraints", "nodeName"] as const;

/** Every path in `helmValues` that sets where pods run (PLACEMENT_KEYS at any depth). */
export function placementOverrides(helmValues: unknown, prefix = ""): string[] {
    const out: string[] = [];
    // Bounded in nodes and depth, and cycle-safe: a library user's values are any object graph.
    let budget = 100_000;
    const seen = new WeakSet<object>();
    const walk = (v: unknown, at: string, depth: number): void => {
        if (--budget < 0 || depth > 64 || !isRecord(v) || seen.has(v)) {
            return;
        }
        seen.add(v);
        for (const [k, child] of Object.entries(v)) {
            const p = at === "" ? k : `${at}.${k}`;
            if ((PLACEMENT_KEYS as readonly string[]).includes(k)) {
                out.push(p);
            } else {
                walk(child, p, depth + 1);
            }
        }
    };
    walk(helmValues, prefix, 0);
    return out;
}

/** Deep-merges the user's `helmValues` over ours (theirs win) and says where they overrode ours. */
export function mergeHelmValues(ours: Record<string, unknown>, theirs: Record<string, unknown>, configKey: string): MergedValues {
    const warnings: string[] = [];
    const merge = (a: unknown, b: unknown, path: string): unknown => {
        if (isRecord(a) && isRecord(b)) {
            const out: Record<string, unknown> = { ...a };
            for (const [k, v] of Object.entries(b)) {
                out[k] = Object.prototype.hasOwnProperty.call(a, k) ? merge(a[k], v, path === "" ? k : `${path}.${k}`) : v;
            }
            return out;
        }
        if (JSON.stringify(a) !== JSON.stringify(b)) {
            warnings.push(`${configKey}.${path} overrides a value sovereign-faas sets (${JSON.stringify(a)} -> ${JSON.stringify(b)}); the guarantees that depend on it are yours to keep`);
        }
        return b;
    };
    return { values: sortDeep(merge(ours, theirs, "") as Record<string, unknown>), warnings };
}

/**
 * The chart's pods that run for an edition: which values hold their memory request, which their
 * replicas, and the chart's own default request (components/openfaas/reference/openfaas-values.yaml)
 * for those we do not set. faas-netes runs in the gateway's pod, so it has the gateway's replicas.
 */
const OPENFAAS_PODS: ReadonlyArray<{ readonly values: string; readonly replicas?: string; readonly chartDefault: string; readonly editions: readonly Edition[] }> = [
    { values: "gateway", replicas: "gateway.replicas", chartDefault: "120Mi", editions: ["ce", "pro"] },
    { values: "faasnetes", replicas: "gateway.replicas", chartDefault: "120Mi", editions: ["ce", "pro"] },
    { values: "queueWorker", replicas: "queueWorker.replicas", chartDefault: "120Mi", editions: ["ce", "pro"] },
    { values: "nats", chartDefault: "120Mi", editions: ["ce", "pro"] },
    { values: "prometheus", chartDefault: "512Mi", editions: ["ce", "pro"] },
    { values: "alertmanager", chartDefault: "25Mi", editions: ["ce"] },
    { values: "autoscaler", chartDefault: "128Mi", editions: ["pro"] },
];

function at(values: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), values);
}

/** The memory the OpenFaaS chart's pods request, in MiB, for its final values. */
export function openFaasMemoryRequestsMiB(values: Readonly<Record<string, unknown>>, edition: Edition): number {
    let total = 0;
    for (const pod of OPENFAAS_PODS.filter((p) => p.editions.includes(edition))) {
        const request = memoryMiB(at(values, `${pod.values}.resources.requests.memory`)) ?? (memoryMiB(pod.chartDefault) as number);
        const replicas = pod.replicas === undefined ? 1 : Number(at(values, pod.replicas) ?? 1);
        total += request * (Number.isFinite(replicas) ? replicas : 1);
    }
    return Math.ceil(total);
}
