import * as pulumi from "@pulumi/pulumi";

import { ValidationError } from "../../components";
import { parseStackConfig, RawConfig } from "../../program/config";

const base: RawConfig = {
    host: "192.0.2.10",
    location: JSON.stringify({ country: "NO", region: "NO-03" }),
    functions: "tests/fixtures/minimal-stack.yml",
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n",
    firewall: JSON.stringify({ sshSources: ["198.51.100.0/24"], apiSources: ["198.51.100.7/32"] }),
};

function problems(raw: RawConfig): string[] {
    try {
        parseStackConfig({ ...base, ...raw });
    } catch (err) {
        return (err as ValidationError).problems.map((p) => `${p.key} | ${JSON.stringify(p.value)} | ${p.rule} | ${p.fix}`);
    }
    return [];
}

const openfaas = (o: unknown): RawConfig => ({ openfaas: JSON.stringify(o) });

describe("sovereign-faas:openfaas", () => {
    beforeAll(async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "sovereign-faas", "t");
    });

    it("defaults to CE with a 5 minute gateway timeout and a matching ackWait", () => {
        const c = parseStackConfig(base).openfaas;
        expect(c).toEqual({
            edition: "ce",
            chartVersion: "15.0.6",
            gateway: { timeoutSeconds: 300, replicas: 1 },
            queue: { workers: 1, ackWaitSeconds: 300, maxInflight: 1 },
            queues: [],
            scaleToZero: { enabled: false, defaultIdleDurationSeconds: 900 },
            helmValues: {},
        });
    });

    it("refuses scale to zero on CE and says why", () => {
        expect(problems(openfaas({ scaleToZero: { enabled: true } }))).toEqual([
            "sovereign-faas:openfaas.scaleToZero.enabled | true | scale to zero is the OpenFaaS Pro autoscaler; the free faas-idler was removed in 2023 | set openfaas.edition: pro with a licence (openfaas.licenseSecret), or turn scaleToZero off",
        ]);
    });

    it("needs a licence for Pro, and keeps it secret", async () => {
        expect(problems(openfaas({ edition: "pro" }))).toEqual([
            `sovereign-faas:openfaas.licenseSecret | undefined | is required for edition pro | pulumi config set --secret --path 'sovereign-faas:openfaas.licenseSecret' "$(cat ~/.openfaas/LICENSE)"`,
        ]);
        const c = parseStackConfig({ ...base, ...openfaas({ edition: "pro", licenseSecret: "jwt" }) });
        expect(await pulumi.isSecret(c.openfaas.license!)).toBe(true);
    });

    it("rejects named queues, maxInflight and more than 5 gateway replicas on CE", () => {
        expect(problems(openfaas({ queues: [{ name: "slow", timeout: "10m" }], queue: { maxInflight: 5 }, gateway: { replicas: 6 } })).map((p) => p.split(" | ")[0])).toEqual([
            "sovereign-faas:openfaas.gateway.replicas",
            "sovereign-faas:openfaas.queue.maxInflight",
            "sovereign-faas:openfaas.queues",
        ]);
    });

    it("rejects a chart version that is not semver", () => {
        expect(problems(openfaas({ chartVersion: "latest" }))).toEqual([
            'sovereign-faas:openfaas.chartVersion | "latest" | must be an exact semantic version like 15.0.6 | pin a released chart version, e.g. 15.0.6',
        ]);
    });

    it("rejects an ackWait shorter than the gateway timeout", () => {
        expect(problems(openfaas({ gateway: { timeout: "10m" }, queue: { ackWait: "60s" } }))).toEqual([
            'sovereign-faas:openfaas.queue.ackWait | "60s" | must be at least the gateway timeout (600s), or NATS redelivers a message while its function still runs | set ackWait to 600s or more',
        ]);
    });

    it("rejects removed chart keys in helmValues", () => {
        expect(problems(openfaas({ helmValues: { faasIdler: { dryRun: false } } }))[0]).toContain("sovereign-faas:openfaas.helmValues.faasIdler");
    });

    it("rejects a bad duration", () => {
        expect(problems(openfaas({ gateway: { timeout: "five minutes" } }))[0]).toBe(
            'sovereign-faas:openfaas.gateway.timeout | "five minutes" | must be a duration such as 300s, 5m or 1h30m | write a number with a unit (s, m, h)',
        );
    });
});

describe("CE limits on functions", () => {
    it("names file, function and field for each broken rule", () => {
        expect(problems({ functions: "tests/fixtures/ce-violations-stack.yml" }).map((p) => p.split(" | ").slice(0, 2).join(" | "))).toEqual([
            'tests/fixtures/ce-violations-stack.yml: functions.busy.labels.com.openfaas.scale.max | "10"',
            'tests/fixtures/ce-violations-stack.yml: functions.busy.labels.com.openfaas.scale.zero | "true"',
            'tests/fixtures/ce-violations-stack.yml: functions.busy.annotations.topic | "a,b c"',
            'tests/fixtures/ce-violations-stack.yml: functions.busy.annotations.topic | "b c"',
            'tests/fixtures/ce-violations-stack.yml: functions.queued.annotations.com.openfaas.queue | "slow"',
        ]);
    });

    it("allows them on Pro with the queue declared", () => {
        expect(
            problems({
                functions: "tests/fixtures/ce-violations-stack.yml",
                ...openfaas({ edition: "pro", licenseSecret: "jwt", queues: [{ name: "slow" }] }),
            }).map((p) => p.split(" | ")[0]),
        ).toEqual(["tests/fixtures/ce-violations-stack.yml: functions.busy.annotations.topic"]);
    });

    it("caps CE at 15 functions", () => {
        expect(problems({ functions: "tests/fixtures/sixteen-stack.yml" })).toEqual([
            'tests/fixtures/sixteen-stack.yml: functions | "16 functions" | Community Edition serves at most 15 functions (beyond that every invocation gets 405) | remove some, or set sovereign-faas:openfaas.edition: pro with a licence (openfaas.licenseSecret)',
        ]);
    });
});

describe("function timeouts against the gateway and the queues", () => {
    it("a function longer than the gateway timeout and the ackWait is refused, naming the file, function and field", () => {
        expect(problems({ functions: "tests/fixtures/timeouts-stack.yml" })).toEqual([
            'tests/fixtures/timeouts-stack.yml: functions.slow-report.environment.exec_timeout | "10m" | is longer than the gateway timeout (300s): the gateway ends the call first | raise sovereign-faas:openfaas.gateway.timeout to 600s or more, or shorten the function\'s timeout',
            'tests/fixtures/timeouts-stack.yml: functions.slow-report.environment.exec_timeout | "10m" | is longer than the queue\'s ackWait (300s): an async call\'s message would be redelivered while the function still runs | raise sovereign-faas:openfaas.queue.ackWait to 600s or more',
        ]);
    });

    it("passes once the gateway timeout and the ackWait cover it", () => {
        expect(problems({ functions: "tests/fixtures/timeouts-stack.yml", ...openfaas({ gateway: { timeout: "10m" }, queue: { ackWait: "11m" } }) })).toEqual([]);
    });
});
