import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import {
    deriveGatewayTimeouts,
    mergeHelmValues,
    renderNatsConnectorValues,
    renderOpenFaasValues,
    renderQueueWorkerValues,
    scaleToZeroLabels,
    unknownValuePaths,
    valuePaths,
} from "../../components";
import { REPO_ROOT } from "../helpers/plan";

const refDir = path.join(REPO_ROOT, "components", "openfaas", "reference");
const reference = (file: string): unknown => yaml.load(fs.readFileSync(path.join(refDir, file), "utf8"));
const nodeSelector = { "sovereign-faas.io/jurisdiction": "NO", "topology.kubernetes.io/region": "NO-03" };
const base = { gatewayTimeoutSeconds: 300, gatewayReplicas: 1, nodeSelector, queue: { workers: 1, ackWaitSeconds: 300 } };

describe("OpenFaaS chart values", () => {
    it("CE: exact values", () => {
        expect(renderOpenFaasValues({ ...base, edition: "ce" })).toEqual({
            basic_auth: true,
            exposeServices: false,
            faasnetes: { resources: { requests: { cpu: "100m", memory: "120Mi" } } },
            functionNamespace: "openfaas-fn",
            functions: { setNonRootUser: true },
            gateway: {
                directFunctions: true,
                readTimeout: "305s",
                replicas: 1,
                resources: { requests: { cpu: "100m", memory: "120Mi" } },
                upstreamTimeout: "300s",
                writeTimeout: "305s",
            },
            generateBasicAuth: false,
            nats: { resources: { requests: { cpu: "100m", memory: "120Mi" } } },
            nodeSelector,
            openfaasPro: false,
            prometheus: { resources: { requests: { cpu: "100m", memory: "512Mi" } } },
            queueWorker: { ackWait: "300s", replicas: 1, resources: { requests: { cpu: "50m", memory: "120Mi" } } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 10001 },
        });
    });

    it("Pro: exact values (JetStream queue worker, autoscaler, licence flag)", () => {
        const v = renderOpenFaasValues({ ...base, edition: "pro", proQueue: { maxInflight: 10 }, queue: { workers: 2, ackWaitSeconds: 300 } });
        expect(v).toEqual({
            autoscaler: { enabled: true, resources: { requests: { cpu: "100m", memory: "128Mi" } } },
            basic_auth: true,
            exposeServices: false,
            faasnetes: { resources: { requests: { cpu: "100m", memory: "120Mi" } } },
            functionNamespace: "openfaas-fn",
            functions: { setNonRootUser: true },
            gateway: {
                directFunctions: true,
                readTimeout: "305s",
                replicas: 1,
                resources: { requests: { cpu: "100m", memory: "120Mi" } },
                upstreamTimeout: "300s",
                writeTimeout: "305s",
            },
            generateBasicAuth: false,
            jetstreamQueueWorker: { mode: "static" },
            nats: { resources: { requests: { cpu: "100m", memory: "120Mi" } } },
            nodeSelector,
            openfaasPro: true,
            operator: { resources: { requests: { cpu: "50m", memory: "120Mi" } } },
            prometheus: { resources: { requests: { cpu: "100m", memory: "512Mi" } } },
            queueWorker: { ackWait: "300s", replicas: 2 },
            queueWorkerPro: { maxInflight: 10 },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 10001 },
        });
    });

    it.each(["ce", "pro"] as const)("%s: sets only keys the chart has, never faasIdler or queueMode", (edition) => {
        const v = renderOpenFaasValues({ ...base, edition });
        expect(unknownValuePaths(v, reference("openfaas-values.yaml"))).toEqual([]);
        expect(valuePaths(v).filter((p) => /faasIdler|queueMode/.test(p))).toEqual([]);
    });

    it("queue-worker and nats-connector values use only their charts' keys", () => {
        const qw = renderQueueWorkerValues({ name: "slow-queue", maxInflight: 2, timeoutSeconds: 900 }, nodeSelector);
        expect(unknownValuePaths(qw, reference("queue-worker-values.yaml"))).toEqual([]);
        expect(qw).toEqual({
            maxInflight: 2,
            mode: "static",
            nats: { consumer: { ackWait: "900s", durableName: "slow-queue-workers" }, host: "nats.openfaas", stream: { name: "slow-queue" } },
            nodeSelector,
            queueName: "slow-queue",
            resources: { requests: { cpu: "50m", memory: "120Mi" } },
            upstreamTimeout: "900s",
        });
        const nc = renderNatsConnectorValues(["orders.created", "image-upload", "image-upload"], 300);
        expect(unknownValuePaths(nc, reference("nats-connector-values.yaml"))).toEqual([]);
        expect(nc.topics).toBe("image-upload,orders.created");
        expect(nc.topic_delimiter).toBe(",");
    });

    it("finds keys the chart does not have", () => {
        expect(unknownValuePaths({ faasIdler: { enabled: true }, gateway: { nope: 1, readTimeout: "1s" }, nodeSelector: { any: "x" } }, reference("openfaas-values.yaml"))).toEqual([
            "faasIdler",
            "gateway.nope",
        ]);
    });

    it("keeps the reference copy identical to shared/reference", () => {
        const shared = path.join(REPO_ROOT, "..", "shared", "reference", "openfaas");
        if (!fs.existsSync(shared)) {
            return; // a clone without shared/ beside it: nothing to compare
        }
        for (const f of ["openfaas-values.yaml", "queue-worker-values.yaml", "nats-connector-values.yaml"]) {
            expect(fs.readFileSync(path.join(refDir, f), "utf8")).toBe(fs.readFileSync(path.join(shared, f), "utf8"));
        }
    });
});

describe("gateway timeouts", () => {
    it("keeps upstream strictly below read and write", () => {
        for (const t of [1, 60, 300, 3600]) {
            const d = deriveGatewayTimeouts(t);
            expect(d.upstreamTimeout).toBe(`${t}s`);
            expect(parseInt(d.readTimeout, 10)).toBeGreaterThan(t);
            expect(d.writeTimeout).toBe(d.readTimeout);
        }
    });
});

describe("helmValues escape hatch", () => {
    it("merges last and warns where it overrides ours", () => {
        const m = mergeHelmValues({ gateway: { directFunctions: true, replicas: 1 } }, { gateway: { directFunctions: false }, dashboard: { enabled: true } }, "sovereign-faas:openfaas.helmValues");
        expect(m.values).toEqual({ dashboard: { enabled: true }, gateway: { directFunctions: false, replicas: 1 } });
        expect(m.warnings).toEqual([
            "sovereign-faas:openfaas.helmValues.gateway.directFunctions overrides a value sovereign-faas sets (true -> false); the guarantees that depend on it are yours to keep",
        ]);
    });
});

describe("scale to zero labels", () => {
    it("renders the Pro labels", () => {
        expect(scaleToZeroLabels(900)).toEqual({ "com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "15m" });
        expect(scaleToZeroLabels(90)).toEqual({ "com.openfaas.scale.zero": "true", "com.openfaas.scale.zero-duration": "90s" });
    });
});
