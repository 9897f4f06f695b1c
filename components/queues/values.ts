/**
 * Helm values for the async side: OpenFaaS Pro's `queue-worker` chart (one release per named
 * queue) and the `nats-connector` chart (topic triggers). Pure; only reference keys are set.
 */
import { OPENFAAS_NAMESPACE } from "../shared/edition";
import { sortDeep } from "../shared/sort";
import { memoryMiB } from "../shared/quantity";

/** Pinned chart versions (newest at faas-netes commit 662ce9ce). */
export const DEFAULT_QUEUE_WORKER_CHART_VERSION = "0.2.31";
export const DEFAULT_NATS_CONNECTOR_CHART_VERSION = "0.3.2";
/** Topics are joined with this; the connector splits on it. */
export const TOPIC_DELIMITER = ",";
/** NATS subject tokens we accept for topics: letters, digits, `-` and `_`, dot-separated. No wildcards. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A named queue (Pro). */
export interface NamedQueue {
    /** DNS-1123 name; functions bind with the annotation `com.openfaas.queue: <name>`. */
    readonly name: string;
    /** Messages processed at once by this queue's worker. */
    readonly maxInflight: number;
    /** The longest a function on this queue may run, seconds. */
    readonly timeoutSeconds: number;
}

/** Values for one queue's `queue-worker` release: its own stream, consumer and limits. */
export function renderQueueWorkerValues(queue: NamedQueue, nodeSelector: Readonly<Record<string, string>>): Record<string, unknown> {
    return sortDeep({
        maxInflight: queue.maxInflight,
        mode: "static",
        nats: {
            consumer: { ackWait: `${queue.timeoutSeconds}s`, durableName: `${queue.name}-workers` },
            host: `nats.${OPENFAAS_NAMESPACE}`,
            stream: { name: queue.name },
        },
        nodeSelector: { ...nodeSelector },
        queueName: queue.name,
        resources: { requests: { cpu: "50m", memory: QUEUE_WORKER_MEMORY_REQUEST } },
        upstreamTimeout: `${queue.timeoutSeconds}s`,
    });
}

/** Values for the topic connector, subscribed to the union of the functions' topics. */
export function renderNatsConnectorValues(topics: readonly string[], upstreamTimeoutSeconds: number): Record<string, unknown> {
    const unique = [...new Set(topics)].sort();
    return sortDeep({
        basic_auth: true,
        broker_host: `nats.${OPENFAAS_NAMESPACE}`,
        gateway_url: `http://gateway.${OPENFAAS_NAMESPACE}:8080`,
        resources: { requests: { cpu: "100m", memory: NATS_CONNECTOR_MEMORY_REQUEST } },
        topic_delimiter: TOPIC_DELIMITER,
        topics: unique.join(TOPIC_DELIMITER),
        upstream_timeout: `${upstreamTimeoutSeconds}s`,
    });
}

/** Memory each queue-worker release requests (renderQueueWorkerValues) and the connector's. */
export const QUEUE_WORKER_MEMORY_REQUEST = "120Mi";
export const NATS_CONNECTOR_MEMORY_REQUEST = "64Mi";

/** The memory the async releases request, in MiB: one worker per named queue, one connector for topics. */
export function asyncMemoryRequestsMiB(queues: readonly NamedQueue[], topics: readonly string[]): number {
    return Math.ceil(queues.length * (memoryMiB(QUEUE_WORKER_MEMORY_REQUEST) as number) + (topics.length > 0 ? (memoryMiB(NATS_CONNECTOR_MEMORY_REQUEST) as number) : 0));
}
