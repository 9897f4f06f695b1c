/** `sovereign-faas:openfaas`: edition, chart, gateway, queues and scale to zero. */
import * as pulumi from "@pulumi/pulumi";

import {
    CE_MAX_REPLICAS,
    DEFAULT_GATEWAY_REPLICAS,
    DEFAULT_GATEWAY_TIMEOUT_SECONDS,
    DEFAULT_IDLE_DURATION_SECONDS,
    DEFAULT_OPENFAAS_CHART_VERSION,
    Edition,
    isDns1123Label,
    isRecord,
    isSemver,
    NamedQueue,
    parseDurationSeconds,
    placementOverrides,
} from "../../components";
import { ConfigReader, fullKey, NOT_SHOWN } from "../config-reader";

export interface OpenFaasSettings {
    readonly edition: Edition;
    readonly chartVersion: string;
    /** Secret. Pro only. */
    readonly license?: pulumi.Output<string>;
    readonly gateway: { readonly timeoutSeconds: number; readonly replicas: number };
    /** The default queue: workers and ack wait (seconds). */
    readonly queue: { readonly workers: number; readonly ackWaitSeconds: number; readonly maxInflight: number };
    /** Named queues (Pro). */
    readonly queues: readonly NamedQueue[];
    readonly scaleToZero: { readonly enabled: boolean; readonly defaultIdleDurationSeconds: number };
    readonly helmValues: Readonly<Record<string, unknown>>;
}

const KEYS = ["edition", "chartVersion", "licenseSecret", "gateway", "queue", "queues", "scaleToZero", "helmValues"];

function duration(r: ConfigReader, key: string, value: unknown, fallback: number): number {
    if (value === undefined) {
        return fallback;
    }
    const s = parseDurationSeconds(value);
    if (s === undefined || s === 0) {
        r.problems.add(fullKey(key), value, "must be a duration such as 300s, 5m or 1h30m", "write a number with a unit (s, m, h)");
        return fallback;
    }
    return s;
}

function subObject(r: ConfigReader, key: string, value: unknown, known: string[]): Record<string, unknown> {
    if (value === undefined) {
        return {};
    }
    if (!isRecord(value)) {
        r.problems.add(fullKey(key), value, "must be a map", `write it as a YAML map under ${fullKey(key)}`);
        return {};
    }
    r.unknownKeys(key, value, known);
    return value;
}

/** Parses `sovereign-faas:openfaas`. Problems go to the reader. */
export function parseOpenFaasConfig(r: ConfigReader, secret: (v: string) => pulumi.Output<string>): OpenFaasSettings {
    const o = r.object("openfaas", "{ edition, chartVersion, licenseSecret, gateway, queue, queues, scaleToZero, helmValues }") ?? {};
    r.unknownKeys("openfaas", o, KEYS);
    const edition = o.edition ?? "ce";
    if (edition !== "ce" && edition !== "pro") {
        r.problems.add(fullKey("openfaas.edition"), edition, 'must be "ce" (Community Edition) or "pro"', "set edition: pro for commercial production, ce for evaluation");
    }
    const ed: Edition = edition === "pro" ? "pro" : "ce";
    const chartVersion = o.chartVersion ?? DEFAULT_OPENFAAS_CHART_VERSION;
    if (typeof chartVersion !== "string" || !isSemver(chartVersion)) {
        r.problems.add(fullKey("openfaas.chartVersion"), chartVersion, "must be an exact semantic version like 15.0.6", `pin a released chart version, e.g. ${DEFAULT_OPENFAAS_CHART_VERSION}`);
    }
    const license = o.licenseSecret;
    if (ed === "pro" && (typeof license !== "string" || license.trim() === "")) {
        r.problems.add(fullKey("openfaas.licenseSecret"), license === undefined ? undefined : "[secret]", "is required for edition pro", `pulumi config set --secret --path '${fullKey("openfaas.licenseSecret")}' "$(cat ~/.openfaas/LICENSE)"`);
    }
    if (ed === "ce" && license !== undefined) {
        r.problems.add(fullKey("openfaas.licenseSecret"), "[secret]", "is only used with edition pro", "remove it, or set edition: pro");
    }

    const g = subObject(r, "openfaas.gateway", o.gateway, ["timeout", "replicas"]);
    const timeoutSeconds = duration(r, "openfaas.gateway.timeout", g.timeout, DEFAULT_GATEWAY_TIMEOUT_SECONDS);
    const replicas = g.replicas === undefined ? DEFAULT_GATEWAY_REPLICAS : r.integer("openfaas.gateway.replicas", g.replicas, 1, 100) ?? DEFAULT_GATEWAY_REPLICAS;
    if (ed === "ce" && replicas > CE_MAX_REPLICAS) {
        r.problems.add(fullKey("openfaas.gateway.replicas"), replicas, `Community Edition allows at most ${CE_MAX_REPLICAS} replicas`, "lower it, or set openfaas.edition: pro with a licence");
    }

    const q = subObject(r, "openfaas.queue", o.queue, ["workers", "ackWait", "maxInflight"]);
    const workers = q.workers === undefined ? 1 : r.integer("openfaas.queue.workers", q.workers, 1, 100) ?? 1;
    const ackWaitSeconds = duration(r, "openfaas.queue.ackWait", q.ackWait, timeoutSeconds);
    const maxInflight = q.maxInflight === undefined ? 1 : r.integer("openfaas.queue.maxInflight", q.maxInflight, 1, 10000) ?? 1;
    if (ed === "ce" && q.maxInflight !== undefined) {
        r.problems.add(fullKey("openfaas.queue.maxInflight"), q.maxInflight, "needs OpenFaaS Pro (the CE queue-worker handles one message at a time)", "remove it, or set openfaas.edition: pro with a licence");
    }
    if (ackWaitSeconds < timeoutSeconds) {
        r.problems.add(
            fullKey("openfaas.queue.ackWait"),
            q.ackWait,
            `must be at least the gateway timeout (${timeoutSeconds}s), or NATS redelivers a message while its function still runs`,
            `set ackWait to ${timeoutSeconds}s or more`,
        );
    }

    const queues: NamedQueue[] = [];
    if (o.queues !== undefined) {
        if (!Array.isArray(o.queues)) {
            r.problems.add(fullKey("openfaas.queues"), o.queues, "must be a list of { name, maxInflight, timeout }", "write it as a YAML list");
        } else {
            if (ed === "ce" && o.queues.length > 0) {
                r.problems.add(fullKey("openfaas.queues"), o.queues.map((x) => (isRecord(x) ? x.name : x)), "named queues need OpenFaaS Pro (JetStream queue-worker)", "remove them, or set openfaas.edition: pro with a licence");
            }
            const seen = new Set<string>();
            o.queues.forEach((item, i) => {
                const key = `openfaas.queues[${i}]`;
                const qq = subObject(r, key, item, ["name", "maxInflight", "timeout"]);
                const name = qq.name;
                if (typeof name !== "string" || !isDns1123Label(name)) {
                    r.problems.add(fullKey(`${key}.name`), name, "must be a DNS-1123 label (lower-case letters, digits, '-')", "rename it, e.g. slow-queue");
                    return;
                }
                if (seen.has(name)) {
                    r.problems.add(fullKey(`${key}.name`), name, "is a duplicate queue name", "give each queue its own name");
                }
                seen.add(name);
                queues.push({
                    name,
                    maxInflight: qq.maxInflight === undefined ? 1 : r.integer(`${key}.maxInflight`, qq.maxInflight, 1, 10000) ?? 1,
                    timeoutSeconds: duration(r, `${key}.timeout`, qq.timeout, timeoutSeconds),
                });
            });
        }
    }

    const z = subObject(r, "openfaas.scaleToZero", o.scaleToZero, ["enabled", "defaultIdleDuration"]);
    if (z.enabled !== undefined && typeof z.enabled !== "boolean") {
        r.problems.add(fullKey("openfaas.scaleToZero.enabled"), z.enabled, "must be true or false", "write it without quotes");
    }
    const scaleToZero = { enabled: z.enabled === true, defaultIdleDurationSeconds: duration(r, "openfaas.scaleToZero.defaultIdleDuration", z.defaultIdleDuration, DEFAULT_IDLE_DURATION_SECONDS) };
    if (ed === "ce" && scaleToZero.enabled) {
        r.problems.add(
            fullKey("openfaas.scaleToZero.enabled"),
            true,
            "scale to zero is the OpenFaaS Pro autoscaler; the free faas-idler was removed in 2023",
            "set openfaas.edition: pro with a licence (openfaas.licenseSecret), or turn scaleToZero off",
        );
    }

    let helmValues: Record<string, unknown> = {};
    if (o.helmValues !== undefined) {
        if (!isRecord(o.helmValues)) {
            r.problems.add(fullKey("openfaas.helmValues"), o.helmValues, "must be a map of chart values", "write chart values as a YAML map");
        } else {
            helmValues = o.helmValues;
            for (const p of placementOverrides(helmValues, "openfaas.helmValues")) {
                r.problems.add(fullKey(p), NOT_SHOWN, "sets where OpenFaaS pods run, past the location pinning the platform sets (a node of another jurisdiction could run them)", "remove it; the platform pins every pod to the sovereign node's labels (sovereign-faas:location)");
            }
            for (const removed of ["faasIdler", "queueMode"]) {
                if (removed in helmValues) {
                    r.problems.add(fullKey(`openfaas.helmValues.${removed}`), helmValues[removed], `${removed} was removed from the chart and does nothing`, removed === "faasIdler" ? "use openfaas.scaleToZero (Pro)" : "remove it; the queue mode follows the edition");
                }
            }
        }
    }

    return {
        edition: ed,
        chartVersion: typeof chartVersion === "string" ? chartVersion : DEFAULT_OPENFAAS_CHART_VERSION,
        ...(ed === "pro" && typeof license === "string" ? { license: secret(license) } : {}),
        gateway: { timeoutSeconds, replicas },
        queue: { workers, ackWaitSeconds, maxInflight },
        queues,
        scaleToZero,
        helmValues,
    };
}
