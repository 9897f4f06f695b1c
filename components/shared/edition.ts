/**
 * OpenFaaS editions and the Community Edition's limits, as enforced by faas-netes.
 * Shared by the OpenFaaS, queue and function components so every limit is checked in one way.
 * Sources: the faas-netes README ("faas-netes Community Edition (CE)", its list of CE limits) and
 * the editions comparison at docs.openfaas.com/openfaas-pro/introduction/, checked Nov 2026.
 */

/** `ce`: Community Edition (individual and hobby use, 60-day commercial PoC). `pro`: OpenFaaS Pro/Standard. */
export type Edition = "ce" | "pro";

/** CE: more functions than this and every invocation gets 405. */
export const CE_MAX_FUNCTIONS = 15;
/** CE: most replicas a function may have. */
export const CE_MAX_REPLICAS = 5;
/** CE: the only namespace functions may live in. */
export const FUNCTION_NAMESPACE = "openfaas-fn";
/** The namespace of the OpenFaaS core services. */
export const OPENFAAS_NAMESPACE = "openfaas";
/** Pro scale-to-zero labels. */
export const SCALE_ZERO_LABEL = "com.openfaas.scale.zero";
export const SCALE_ZERO_DURATION_LABEL = "com.openfaas.scale.zero-duration";
/** CE rejects these function labels (Pro autoscaler settings). */
export const CE_REJECTED_LABELS = [
    SCALE_ZERO_LABEL,
    SCALE_ZERO_DURATION_LABEL,
    "com.openfaas.scale.target",
    "com.openfaas.scale.type",
] as const;
/** The annotation that binds a function to a named queue (Pro). */
export const QUEUE_ANNOTATION = "com.openfaas.queue";
/** The annotation listing the NATS topics a function subscribes to (comma-separated). */
export const TOPIC_ANNOTATION = "topic";
/** Initial replicas label. */
export const SCALE_MIN_LABEL = "com.openfaas.scale.min";
export const SCALE_MAX_LABEL = "com.openfaas.scale.max";

/** What the function layer needs to know about the platform it deploys onto. */
export interface PlatformFeatures {
    readonly edition: Edition;
    /** Pro autoscaler scale to zero. */
    readonly scaleToZero: {
        readonly enabled: boolean;
        /** Idle time before a function scales to zero, in seconds. */
        readonly defaultIdleDurationSeconds: number;
    };
    /** Named queues (Pro), by name. */
    readonly queueNames: readonly string[];
    /** The longest a synchronous call may run, in seconds (gateway timeout). */
    readonly gatewayTimeoutSeconds: number;
    /**
     * How long the default queue waits for an async call's ack, in seconds.
     * @default gatewayTimeoutSeconds
     */
    readonly ackWaitSeconds?: number;
    /**
     * Each named queue's timeout (its ack wait), in seconds.
     * @default {} (every named queue's timeout is the gateway timeout)
     */
    readonly queueTimeouts?: Readonly<Record<string, number>>;
    /**
     * The Pod Security level the functions' namespace enforces; hostPath volumes need `privileged`.
     * @default "restricted"
     */
    readonly functionNamespaceEnforce?: PodSecurityLevel;
}

/** Kubernetes Pod Security Standards levels. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";
