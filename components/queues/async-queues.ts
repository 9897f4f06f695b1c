import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { OPENFAAS_CHART_REPO } from "../openfaas/values";
import { Edition, OPENFAAS_NAMESPACE } from "../shared/edition";
import { Location, locationLabels } from "../shared/labels";
import { childOptions } from "../shared/options";
import { Problems } from "../shared/validation";
import {
    DEFAULT_NATS_CONNECTOR_CHART_VERSION,
    DEFAULT_QUEUE_WORKER_CHART_VERSION,
    NamedQueue,
    renderNatsConnectorValues,
    renderQueueWorkerValues,
} from "./values";

export interface AsyncQueuesArgs {
    readonly provider: k8s.Provider;
    readonly location: Location;
    /**
     * The edition; named queues need `pro`.
     * @default "ce"
     */
    readonly edition?: Edition;
    /**
     * Named queues, one queue-worker release each (Pro).
     * @default []
     */
    readonly queues?: readonly NamedQueue[];
    /**
     * NATS topics that trigger functions (the functions' `topic` annotations).
     * @default [] (no connector)
     */
    readonly topics?: readonly string[];
    /**
     * Timeout for topic-triggered invocations, seconds (the gateway timeout).
     * @default 300
     */
    readonly upstreamTimeoutSeconds?: number;
    /**
     * Pinned chart versions.
     * @default { queueWorker: "0.2.31", natsConnector: "0.3.2" }
     */
    readonly chartVersions?: { readonly queueWorker?: string; readonly natsConnector?: string };
}

/**
 * The async side of OpenFaaS: the default queue lives in the main chart (CE: NATS Streaming +
 * queue-worker; Pro: JetStream); this adds one `queue-worker` release per named queue (Pro)
 * and one `nats-connector` release for topic triggers. Pass the OpenFaaS release as `dependsOn`.
 */
/** Every problem of the queues' arguments, before anything is created. */
export function validateAsyncQueuesArgs(args: Pick<AsyncQueuesArgs, "edition" | "queues">): Problems {
    const problems = new Problems();
    const queues = args.queues ?? [];
    if ((args.edition ?? "ce") === "ce" && queues.length > 0) {
        problems.add("queues", queues.map((q) => q.name), "named queues need OpenFaaS Pro (the JetStream queue-worker)", 'use edition "pro", or no named queues');
    }
    return problems;
}

export class AsyncQueues extends pulumi.ComponentResource {
    /** The in-cluster async invoke URL for a function: replace `<name>`. */
    readonly asyncUrlPattern: string;
    /** The queues with their workers. */
    readonly queueNames: string[];
    /** The subscribed topics. */
    readonly topics: string[];

    constructor(name: string, args: AsyncQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
        const queues = args.queues ?? [];
        validateAsyncQueuesArgs(args).throwIfAny(`AsyncQueues ${name}: invalid arguments`);
        super("sovereign-faas:queues:AsyncQueues", name, {}, opts);
        const nodeSelector = locationLabels(args.location);
        const releaseOpts = childOptions(this, opts, { provider: args.provider });
        for (const queue of [...queues].sort((a, b) => a.name.localeCompare(b.name))) {
            new k8s.helm.v3.Release(
                `${name}-${queue.name}`,
                {
                    name: `${queue.name}-queue-worker`,
                    chart: "queue-worker",
                    version: args.chartVersions?.queueWorker ?? DEFAULT_QUEUE_WORKER_CHART_VERSION,
                    repositoryOpts: { repo: OPENFAAS_CHART_REPO },
                    namespace: OPENFAAS_NAMESPACE,
                    values: renderQueueWorkerValues(queue, nodeSelector),
                    createNamespace: false,
                },
                releaseOpts,
            );
        }
        this.topics = [...new Set(args.topics ?? [])].sort();
        if (this.topics.length > 0) {
            new k8s.helm.v3.Release(
                `${name}-nats-connector`,
                {
                    name: "nats-connector",
                    chart: "nats-connector",
                    version: args.chartVersions?.natsConnector ?? DEFAULT_NATS_CONNECTOR_CHART_VERSION,
                    repositoryOpts: { repo: OPENFAAS_CHART_REPO },
                    namespace: OPENFAAS_NAMESPACE,
                    values: renderNatsConnectorValues(this.topics, args.upstreamTimeoutSeconds ?? 300),
                    createNamespace: false,
                },
                releaseOpts,
            );
        }
        this.queueNames = queues.map((q) => q.name).sort();
        this.asyncUrlPattern = `http://gateway.${OPENFAAS_NAMESPACE}:8080/async-function/<name>`;
        this.registerOutputs({ asyncUrlPattern: this.asyncUrlPattern, queueNames: this.queueNames, topics: this.topics });
    }
}
