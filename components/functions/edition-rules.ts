/**
 * The CE limits and queue/topic rules, checked over the parsed functions before anything is
 * created. Each problem names the stack file, the function and the field.
 */
import {
    CE_MAX_FUNCTIONS,
    CE_MAX_REPLICAS,
    CE_REJECTED_LABELS,
    FUNCTION_NAMESPACE,
    PlatformFeatures,
    QUEUE_ANNOTATION,
    SCALE_MAX_LABEL,
    SCALE_MIN_LABEL,
    TOPIC_ANNOTATION,
} from "../shared/edition";
import { parseDurationSeconds } from "../shared/duration";
import { Problems } from "../shared/validation";
import { TOPIC_DELIMITER, TOPIC_PATTERN } from "../queues/values";
import { FunctionSpec } from "./stack-yml";

const PRO_FIX = "set sovereign-faas:openfaas.edition: pro with a licence (openfaas.licenseSecret)";

/** The topics a function subscribes to (its `topic` annotation, comma-separated). */
export function topicsOf(fn: FunctionSpec): string[] {
    const raw = fn.annotations[TOPIC_ANNOTATION];
    return raw === undefined ? [] : raw.split(TOPIC_DELIMITER).map((t) => t.trim()).filter((t) => t !== "");
}

/** Checks the functions against the edition's limits, the known queues and NATS subject syntax. */
export function validateFunctionsForEdition(functions: readonly FunctionSpec[], features: PlatformFeatures, file: string): Problems {
    const problems = new Problems();
    const at = (fn: string, field: string): string => `${file}: functions.${fn}.${field}`;
    const ce = features.edition === "ce";
    if (ce && functions.length > CE_MAX_FUNCTIONS) {
        problems.add(`${file}: functions`, `${functions.length} functions`, `Community Edition serves at most ${CE_MAX_FUNCTIONS} functions (beyond that every invocation gets 405)`, `remove some, or ${PRO_FIX}`);
    }
    const queues = new Set(features.queueNames);
    for (const fn of functions) {
        if (ce) {
            for (const label of [SCALE_MIN_LABEL, SCALE_MAX_LABEL]) {
                const v = fn.labels[label];
                if (v !== undefined && Number(v) > CE_MAX_REPLICAS) {
                    problems.add(at(fn.name, `labels.${label}`), v, `Community Edition allows at most ${CE_MAX_REPLICAS} replicas`, `lower it to ${CE_MAX_REPLICAS}, or ${PRO_FIX}`);
                }
            }
            for (const label of CE_REJECTED_LABELS) {
                if (fn.labels[label] !== undefined) {
                    problems.add(at(fn.name, `labels.${label}`), fn.labels[label], "Community Edition rejects this autoscaler label (scale to zero and targets are OpenFaaS Pro)", `remove it, or ${PRO_FIX}`);
                }
            }
            if (fn.namespace !== undefined && fn.namespace !== FUNCTION_NAMESPACE) {
                problems.add(at(fn.name, "namespace"), fn.namespace, `Community Edition deploys functions only to ${FUNCTION_NAMESPACE}`, `remove namespace, or ${PRO_FIX}`);
            }
        } else if (fn.namespace !== undefined && fn.namespace !== FUNCTION_NAMESPACE) {
            problems.add(at(fn.name, "namespace"), fn.namespace, `this platform deploys functions to ${FUNCTION_NAMESPACE} only`, "remove namespace");
        }
        for (const label of [SCALE_MIN_LABEL, SCALE_MAX_LABEL]) {
            const v = fn.labels[label];
            if (v !== undefined && !/^\d+$/.test(v)) {
                problems.add(at(fn.name, `labels.${label}`), v, "must be a whole number of replicas", "write a number such as 1");
            }
        }
        const topics = topicsOf(fn);
        if (ce && topics.length > 1) {
            problems.add(at(fn.name, `annotations.${TOPIC_ANNOTATION}`), fn.annotations[TOPIC_ANNOTATION], "Community Edition allows one topic per function", `keep one topic, or ${PRO_FIX}`);
        }
        for (const t of topics) {
            if (!TOPIC_PATTERN.test(t)) {
                problems.add(at(fn.name, `annotations.${TOPIC_ANNOTATION}`), t, "a topic is a NATS subject: letters, digits, '-' and '_' in dot-separated tokens, no spaces or wildcards (* >)", "rename it, e.g. image-upload or orders.created");
            }
        }
        const queue = fn.annotations[QUEUE_ANNOTATION];
        if (queue !== undefined && !queues.has(queue)) {
            problems.add(
                at(fn.name, `annotations.${QUEUE_ANNOTATION}`),
                queue,
                ce ? "named queues need OpenFaaS Pro" : `is not a queue in sovereign-faas:openfaas.queues (known: ${[...queues].sort().join(", ") || "none"})`,
                ce ? `remove the annotation, or ${PRO_FIX}` : "add the queue to openfaas.queues or fix the name",
            );
        }
    }
    return problems;
}

/** The watchdog's timeouts a function sets through its environment (faas-cli convention). */
export const FUNCTION_TIMEOUT_ENV = ["exec_timeout", "read_timeout", "write_timeout"] as const;

/** The longest a function may run, from its watchdog timeouts; undefined when it sets none. */
export function functionTimeout(fn: FunctionSpec): { seconds: number; key: string } | undefined {
    let best: { seconds: number; key: string } | undefined;
    for (const key of FUNCTION_TIMEOUT_ENV) {
        const s = parseDurationSeconds(fn.environment[key]);
        if (s !== undefined && (best === undefined || s > best.seconds)) {
            best = { seconds: s, key };
        }
    }
    return best;
}

export interface TimeoutLimits {
    /** Gateway upstream timeout, seconds. */
    readonly gatewaySeconds: number;
    /** Ack wait of the default queue, seconds. */
    readonly ackWaitSeconds: number;
    /** Named queues' timeouts, seconds. */
    readonly queues: Readonly<Record<string, number>>;
}

/**
 * A function may not run longer than the gateway lets a call last, nor longer than its queue
 * waits for an ack - or NATS redelivers the message while the function still runs.
 */
export function validateFunctionTimeouts(functions: readonly FunctionSpec[], limits: TimeoutLimits, file: string): Problems {
    const problems = new Problems();
    for (const fn of functions) {
        const t = functionTimeout(fn);
        if (t === undefined) {
            continue;
        }
        const at = `${file}: functions.${fn.name}.environment.${t.key}`;
        if (t.seconds > limits.gatewaySeconds) {
            problems.add(at, fn.environment[t.key], `is longer than the gateway timeout (${limits.gatewaySeconds}s): the gateway ends the call first`, `raise sovereign-faas:openfaas.gateway.timeout to ${t.seconds}s or more, or shorten the function's timeout`);
        }
        const queue = fn.annotations[QUEUE_ANNOTATION];
        const queueLimit = queue !== undefined ? limits.queues[queue] : limits.ackWaitSeconds;
        if (queueLimit !== undefined && t.seconds > queueLimit) {
            problems.add(
                at,
                fn.environment[t.key],
                queue !== undefined
                    ? `is longer than the timeout of queue ${queue} (${queueLimit}s): its message would be redelivered while the function still runs`
                    : `is longer than the queue's ackWait (${queueLimit}s): an async call's message would be redelivered while the function still runs`,
                queue !== undefined ? `raise the timeout of openfaas.queues ${queue} to ${t.seconds}s or more` : `raise sovereign-faas:openfaas.queue.ackWait to ${t.seconds}s or more`,
            );
        }
    }
    return problems;
}
