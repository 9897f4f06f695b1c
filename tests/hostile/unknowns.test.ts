/**
 * Values unknown at preview (issue 13, item 2): an output of another resource must not pass a
 * data-location rule in silence. CrossGuard's SDK turns a read of an unknown into an advisory
 * "can't run policy ... during preview" (@pulumi/policy server.js, UnknownValueError); the offline
 * plan records the same, and the pack hands the rules' own findings of unknowns to the SDK as
 * that error.
 */
import * as path from "path";

import { policies } from "../../policies/crossguard";
import { DEFAULT_CONFIG, evaluateRules, noForeignDataEndpoints, queueDataLocal, ResourceView, UNKNOWN_VALUE, UnknownAtPreview } from "../../policies/rules";

const deployment = (env: Array<{ name: string; value: string }>): ResourceView => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "fn",
    props: { spec: { template: { spec: { containers: [{ name: "fn", env }] } } } },
});

describe("an unknown destination is never a silent pass", () => {
    const cases: Array<[string, ResourceView]> = [
        ["an env value", deployment([{ name: "BUCKET", value: UNKNOWN_VALUE }])],
        ["a ConfigMap value", { type: "kubernetes:core/v1:ConfigMap", name: "cm", props: { data: { endpoint: UNKNOWN_VALUE } } }],
        ["a Secret value", { type: "kubernetes:core/v1:Secret", name: "s", props: { stringData: { url: UNKNOWN_VALUE } } }],
        ["a Helm value", { type: "kubernetes:helm.sh/v3:Release", name: "rel", props: { values: { backup: { url: UNKNOWN_VALUE } } } }],
    ];

    it.each(cases)("no-foreign-data-endpoints throws UnknownAtPreview for %s", (_, r) => {
        expect(() => noForeignDataEndpoints.checkResource!(r, DEFAULT_CONFIG)).toThrow(UnknownAtPreview);
    });

    it.each(cases)("evaluateRules records %s as an advisory that says it could not be checked", (_, r) => {
        expect(evaluateRules([noForeignDataEndpoints], [r])).toEqual([
            expect.objectContaining({ policy: "no-foreign-data-endpoints", enforcementLevel: "advisory", message: expect.stringMatching(/^can't run policy 'no-foreign-data-endpoints' during preview: .* could not be checked$/) }),
        ]);
    });

    it("a known violation beside an unknown is still mandatory", () => {
        const r = deployment([
            { name: "A", value: UNKNOWN_VALUE },
            { name: "B", value: "https://s3.eu-central-1.amazonaws.com/x" },
        ]);
        expect(evaluateRules([noForeignDataEndpoints], [r])).toEqual([expect.objectContaining({ enforcementLevel: "mandatory" })]);
    });

    it.each([
        ["nats.external.host", { nats: { external: { enabled: true, host: UNKNOWN_VALUE } } }],
        ["nats.host", { nats: { host: UNKNOWN_VALUE } }],
    ])("queue-data-local cannot pass an unknown %s", (_, values) => {
        const r: ResourceView = { type: "kubernetes:helm.sh/v3:Release", name: "q", props: { values } };
        expect(evaluateRules([queueDataLocal], [r])).toEqual([expect.objectContaining({ enforcementLevel: "advisory", message: expect.stringContaining("could not be checked") })]);
    });

    it("absent values are not unknown: a Deployment without env passes", () => {
        expect(evaluateRules([noForeignDataEndpoints], [deployment([])])).toEqual([]);
    });

    it("the CrossGuard policy throws the SDK's own UnknownValueError, which server.js reports as advisory", () => {
        const policy = policies.find((p) => p.name === "no-foreign-data-endpoints") as { validateResource: (args: unknown, report: (m: string) => void) => void };
        const args = { type: "kubernetes:apps/v1:Deployment", name: "fn", urn: "urn", props: deployment([{ name: "BUCKET", value: UNKNOWN_VALUE }]).props, getConfig: () => ({}) };
        // The copy the pack itself loads (policies/node_modules), whose server.js catches it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const sdk = require(require.resolve("@pulumi/policy", { paths: [path.join(__dirname, "..", "..", "policies")] })) as { UnknownValueError: new () => Error };
        expect(() => policy.validateResource(args, () => undefined)).toThrow(sdk.UnknownValueError);
    });
});
