/**
 * Hostile and careless `--policy-pack-config` documents (issue 13, items 11 and 12): levels
 * matched exactly, `all` sets levels only, settings scoped to their policy, and every unknown
 * policy or setting refused, offline and in the pack's own Configure guard alike.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { configSchemaOf, configureProblems, guardConfigure } from "../../policies/crossguard";
import { CONFIG_SCHEMA_PROPERTIES, DEFAULT_CONFIG, parsePackConfig, RULES } from "../../policies/rules";
import { loadPolicyConfig } from "../../program/plan/policy-stage";

const parse = (doc: unknown) => parsePackConfig(doc, RULES);
const ok = (doc: unknown) => {
    const p = parse(doc);
    expect(p.problems).toEqual([]);
    return p;
};

describe("enforcement levels are matched exactly, as CrossGuard matches them", () => {
    it.each(["advisory", "mandatory", "disabled"])("accepts %s, for one policy and for all", (level) => {
        expect(ok({ "function-limits-set": level }).levels["function-limits-set"]).toBe(level);
        expect(ok({ "function-limits-set": { enforcementLevel: level } }).levels["function-limits-set"]).toBe(level);
        const all = ok({ all: level });
        expect(RULES.every((r) => all.levels[r.name] === level)).toBe(true);
    });

    it("accepts remediate and reports it as mandatory, as @pulumi/policy does for rules that remediate nothing", () => {
        expect(ok({ "function-limits-set": "remediate" }).levels["function-limits-set"]).toBe("mandatory");
        expect(ok({ all: "remediate" }).levels["ingress-tls-required"]).toBe("mandatory");
    });

    it.each([
        ["Mandatory"],
        ["MANDATORY"],
        [" mandatory"],
        ["mandatory "],
        ["mandatory\n"],
        ["manditory"],
        ["advisary"],
        ["disable"],
        ["off"],
        ["none"],
        ["warn"],
        ["enforce"],
        [""],
        ["ａｄｖｉｓｏｒｙ"],
    ])("refuses the level %j, naming the policy and the four levels", (level) => {
        for (const doc of [{ "function-limits-set": level }, { "function-limits-set": { enforcementLevel: level } }, { all: level }, { all: { enforcementLevel: level } }]) {
            const p = parse(doc);
            expect(p.problems).toHaveLength(1);
            expect(p.problems[0]).toMatch(/is not an enforcement level; use one of advisory, mandatory, remediate, disabled/);
            expect(p.problems[0]).toMatch(/"function-limits-set"|"all"/);
        }
    });

    it.each([[null], [1], [0], [true], [false], [["mandatory"]], [{}], [{ level: "mandatory" }]])("refuses the value %j where a level belongs", (value) => {
        const p = parse({ "function-limits-set": { enforcementLevel: value } });
        expect(p.problems.length).toBeGreaterThan(0);
    });

    it("suggests the level a typo resembles", () => {
        expect(parse({ "function-limits-set": "manditory" }).problems[0]).toMatch(/did you mean "mandatory"\?/);
        expect(parse({ all: "advisroy" }).problems[0]).toMatch(/did you mean "advisory"\?/);
    });

    it("a policy's own level wins over all, in any key order", () => {
        for (const doc of [{ all: "advisory", "function-limits-set": "mandatory" }, { "function-limits-set": "mandatory", all: "advisory" }]) {
            const p = ok(doc);
            expect(p.levels["function-limits-set"]).toBe("mandatory");
            expect(p.levels["ingress-tls-required"]).toBe("advisory");
        }
    });

    it("all sets levels only: settings under it are refused, not spread to every policy", () => {
        const p = parse({ all: { enforcementLevel: "advisory", allowedCountries: ["NO", "SE"], sovereignRoots: ["/etc"] } });
        expect(p.problems).toEqual([expect.stringMatching(/^"all".allowedCountries: "all" sets only the enforcement level/), expect.stringMatching(/^"all".sovereignRoots:/)]);
        expect(p.settings["host-in-allowed-country"].allowedCountries).toEqual(["NO"]);
    });
});

describe("settings are scoped to the policy that is given them", () => {
    it("a setting given to one policy changes no other policy's", () => {
        const p = ok({ "hostpath-under-sovereign-root": { sovereignRoots: ["/etc"] }, "host-in-allowed-country": { allowedCountries: ["NO", "SE"] } });
        expect(p.settings["hostpath-under-sovereign-root"].sovereignRoots).toEqual(["/etc"]);
        expect(p.settings["sovereign-workloads-pinned"].sovereignRoots).toEqual(DEFAULT_CONFIG.sovereignRoots);
        expect(p.settings["host-in-allowed-country"].allowedCountries).toEqual(["NO", "SE"]);
        expect(p.settings["sovereign-node-labels"].allowedCountries).toEqual(["NO"]);
        expect(p.settings["sovereign-workloads-pinned"].allowedCountries).toEqual(["NO"]);
    });

    it("a policy keeps its default level when it is given settings only", () => {
        expect(ok({ "host-in-allowed-country": { allowedCountries: ["SE"] } }).levels["host-in-allowed-country"]).toBe("mandatory");
    });

    it.each([
        ["function-limits-set", "allowedCountries", /is not a setting of function-limits-set; it has no settings. allowedCountries is read by host-in-allowed-country, addresses-registered-here, sovereign-node-labels, sovereign-workloads-pinned, no-pinning-abroad/],
        ["host-in-allowed-country", "sovereignRoots", /its settings are allowedCountries, allowedRegions. sovereignRoots is read by hostpath-under-sovereign-root, sovereign-workloads-pinned/],
        ["host-in-allowed-country", "allowedCountry", /did you mean "allowedCountries"/],
        ["host-in-allowed-country", "allowedcountries", /did you mean "allowedCountries"/],
        ["host-in-allowed-country", "allowed_countries", /did you mean "allowedCountries"/],
        ["host-in-allowed-country", "AllowedCountries", /did you mean "allowedCountries"/],
        ["host-in-allowed-country", "alowedCountries", /did you mean "allowedCountries"/],
        ["hostpath-under-sovereign-root", "sovereignRoot", /did you mean "sovereignRoots"/],
        ["no-foreign-data-endpoints", "allowedEgressDomain", /did you mean "allowedEgressDomains"/],
        ["no-foreign-data-endpoints", "foreignStoragePattern", /did you mean "foreignStoragePatterns"/],
        ["no-foreign-data-endpoints", "allowedDomains", /is not a setting of no-foreign-data-endpoints/],
        ["queue-data-local", "clusterNamespace", /did you mean "clusterNamespaces"/],
        ["ingress-tls-required", "enabled", /it has no settings/],
        ["kubeconfig-private", "__proto__", /is not a setting of kubeconfig-private/],
        ["sovereign-workloads-pinned", "constructor", /is not a setting of sovereign-workloads-pinned/],
        ["sovereign-node-labels", "enforcement_level", /is not a setting of sovereign-node-labels/],
    ])("refuses %s.%s", (policy, setting, why) => {
        const doc = JSON.parse(`{"${policy}": {"${setting}": ["NO"]}}`);
        const p = parse(doc);
        expect(p.problems).toHaveLength(1);
        expect(p.problems[0]).toMatch(why);
        // Refused settings change nothing.
        expect(p.settings[policy]).toEqual(DEFAULT_CONFIG);
    });

    it.each([
        ["allowedCountries", "NO", /must be a list of strings; it is string/],
        ["allowedCountries", ["no"], /does not match/],
        ["allowedCountries", ["NOR"], /does not match/],
        ["allowedCountries", ["NO", 1], /item 1 must be a string/],
        ["allowedCountries", null, /it is null/],
        ["allowedCountries", { NO: true }, /it is an object/],
        ["allowedCountries", [null], /item 0 must be a string/],
        ["allowedRegions", ["NO03"], /does not match/],
        ["allowedRegions", ["no-03"], /does not match/],
        ["allowedCountries", ["*"], /does not match/],
        ["allowedCountries", [""], /does not match/],
    ])("refuses host-in-allowed-country.%s = %j", (setting, value, why) => {
        const p = parse({ "host-in-allowed-country": { [setting]: value } });
        expect(p.problems).toEqual([expect.stringMatching(why)]);
    });

    it.each([[["data/sovereign"]], [["/data/sovereign/"]], [["/"]], [[""]], [["/data\u0000x"]], ["/data/sovereign"]])("refuses sovereignRoots %j", (value) => {
        expect(parse({ "hostpath-under-sovereign-root": { sovereignRoots: value } }).problems).toHaveLength(1);
    });

    it.each([[["*.no"]], [["no."]], [["Example.NO"]], [["https://x.no"]], [[".n o"]]])("refuses allowedEgressDomains %j", (value) => {
        expect(parse({ "no-foreign-data-endpoints": { allowedEgressDomains: value } }).problems).toHaveLength(1);
    });

    it("an empty list is a valid setting (allow no region, no domain)", () => {
        expect(ok({ "no-foreign-data-endpoints": { allowedEgressDomains: [] } }).settings["no-foreign-data-endpoints"].allowedEgressDomains).toEqual([]);
    });
});

describe("unknown policy names are refused, with the name a typo resembles", () => {
    it.each([
        ["host-in-allowed-countries", "host-in-allowed-country"],
        ["host_in_allowed_country", "host-in-allowed-country"],
        ["Host-In-Allowed-Country", "host-in-allowed-country"],
        ["function-limit-set", "function-limits-set"],
        ["functions-limits-set", "function-limits-set"],
        ["no-foreign-data-endpoint", "no-foreign-data-endpoints"],
        ["ingress-tls-require", "ingress-tls-required"],
        ["hostpath-under-sovereign-roots", "hostpath-under-sovereign-root"],
        ["sovereign-workload-pinned", "sovereign-workloads-pinned"],
        ["queue-data-locals", "queue-data-local"],
        ["All", undefined],
        ["ALL", undefined],
        ["*", undefined],
        ["__proto__", undefined],
        ["constructor", undefined],
        ["toString", undefined],
        ["", undefined],
    ])("refuses %j", (name, hint) => {
        const p = parse(JSON.parse(`{${JSON.stringify(name)}: "disabled"}`));
        expect(p.problems).toHaveLength(1);
        expect(p.problems[0]).toMatch(/is not a policy of this pack/);
        if (hint !== undefined) {
            expect(p.problems[0]).toContain(`did you mean "${hint}"?`);
        }
        // Nothing was disabled.
        expect(RULES.every((r) => p.levels[r.name] === r.enforcementLevel)).toBe(true);
        expect(Object.getPrototypeOf(p.levels)).toBe(Object.prototype);
    });

    it("refuses ESC environments, which only Pulumi Cloud resolves", () => {
        expect(parse({ environments: ["org/policy"] }).problems).toEqual([expect.stringMatching(/^"environments": Pulumi ESC environments/)]);
    });

    it("reports every problem at once", () => {
        const p = parse({ "function-limit-set": "disabled", all: "Advisory", "host-in-allowed-country": { allowedCountry: ["SE"], enforcementLevel: "warn" } });
        expect(p.problems).toHaveLength(4);
    });

    it.each([[null], [[]], ["mandatory"], [1], [[{ all: "advisory" }]]])("refuses a document that is not an object: %j", (doc) => {
        expect(parse(doc).problems).toEqual([expect.stringMatching(/must be a JSON object/)]);
    });

    it.each([[null], [1], [["advisory"]], [true]])("refuses a policy value that is neither a level nor an object: %j", (value) => {
        expect(parse({ "function-limits-set": value }).problems).toEqual([expect.stringMatching(/must be an enforcement level or an object/)]);
    });
});

describe("the pack's own guard refuses what the offline parser refuses", () => {
    /** The config the CLI sends in Configure: every policy with its level and its schema defaults, then the document applied (config.go ReconcilePolicyPackConfig). */
    function reconciled(doc: Record<string, unknown>): Record<string, Record<string, unknown>> {
        const out: Record<string, Record<string, unknown>> = {};
        for (const r of RULES) {
            const props = Object.fromEntries(Object.entries(configSchemaOf(r).properties).map(([k, v]) => [k, (v as { default: unknown }).default]));
            out[r.name] = { ...props, enforcementLevel: r.enforcementLevel };
        }
        for (const [k, v] of Object.entries(doc)) {
            const given = typeof v === "string" ? { enforcementLevel: v } : (v as Record<string, unknown>);
            out[k] = { ...(out[k] ?? {}), ...given };
        }
        return out;
    }

    it("a valid document reconciled by the CLI has no problems", () => {
        expect(configureProblems(reconciled({}))).toEqual([]);
        expect(configureProblems(reconciled({ all: "advisory", "host-in-allowed-country": { allowedCountries: ["NO", "SE"] } }))).toEqual([]);
    });

    it.each([
        [{ "function-limit-set": "disabled" }],
        [{ "host-in-allowed-country": { allowedCountry: ["SE"] } }],
        [{ all: { enforcementLevel: "advisory", sovereignRoots: ["/etc"] } }],
        [{ "function-limits-set": { allowedCountries: ["SE"] } }],
    ])("refuses %j with the offline parser's words", (doc) => {
        const offline = parse(doc).problems;
        expect(offline.length).toBeGreaterThan(0);
        expect(configureProblems(reconciled(doc))).toEqual(offline);
    });

    it("every schema pattern is one Go RE2 (the CLI's gojsonschema) reads as JavaScript does: no \\u, lookaround, backreference or \\p escapes", () => {
        for (const [name, schema] of Object.entries(CONFIG_SCHEMA_PROPERTIES)) {
            expect([name, /\\u|\(\?[=!<]|\\k<|\\[pP]\{|\\[1-9]/.test(schema.items.pattern)]).toEqual([name, false]);
        }
    });

    it("each policy's schema declares only its own settings", () => {
        expect(Object.keys(configSchemaOf(RULES.find((r) => r.name === "function-limits-set")!).properties)).toEqual([]);
        expect(Object.keys(configSchemaOf(RULES.find((r) => r.name === "hostpath-under-sovereign-root")!).properties)).toEqual(["sovereignRoots"]);
    });

    it("the guard answers Configure with INVALID_ARGUMENT and never reaches the pack's handler", () => {
        const calls: string[] = [];
        class FakeServer {
            impl: Record<string, unknown> = {};
            addService(_service: unknown, impl: Record<string, unknown>): void {
                this.impl = impl;
            }
        }
        guardConfigure(FakeServer);
        const server = new FakeServer();
        server.addService({}, { configure: () => calls.push("original"), analyze: () => undefined });
        const request = (doc: Record<string, Record<string, unknown>>) => ({
            request: {
                getPolicyconfigMap: () => ({
                    entries: () =>
                        Object.entries(doc).map(([k, v]) => {
                            const { enforcementLevel, ...props } = v;
                            return [k, { getProperties: () => ({ toJavaScript: () => props }), getEnforcementlevel: () => ({ advisory: 0, mandatory: 1, disabled: 2, remediate: 3 })[enforcementLevel as string] as number }] as const;
                        }),
                }),
            },
        });
        let answer: { code: number; details: string } | null | undefined;
        (server.impl.configure as (c: unknown, cb: (e: { code: number; details: string } | null) => void) => void)(request(reconciled({ "function-limit-set": "disabled" })), (e) => {
            answer = e;
        });
        expect(answer?.code).toBe(3);
        expect(answer?.details).toMatch(/"function-limit-set" is not a policy of this pack: did you mean "function-limits-set"\?/);
        expect(calls).toEqual([]);
        (server.impl.configure as (c: unknown, cb: () => void) => void)(request(reconciled({ all: "advisory" })), () => undefined);
        expect(calls).toEqual(["original"]);
    });
});

describe("the policy config file is read with bounds", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-packcfg-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.each([
        ["a directory", () => dir, /is not a regular file/],
        ["a device", () => "/dev/zero", /is not a regular file/],
        ["a missing file", () => path.join(dir, "missing.json"), /ENOENT/],
        ["a huge file", () => { const f = path.join(dir, "huge.json"); fs.writeFileSync(f, `{"a":"${"x".repeat(2 * 1024 * 1024)}"}`); return f; }, /the limit is 1048576/],
        ["broken JSON", () => { const f = path.join(dir, "broken.json"); fs.writeFileSync(f, '{"function-limits-set": "mandatory", "secret": "hunter2'); return f; }, /JSON/],
        ["an invalid document", () => { const f = path.join(dir, "bad.json"); fs.writeFileSync(f, '{"function-limit-set": "disabled"}'); return f; }, /is invalid \(1 problem\)/],
    ])("refuses %s", (_label, file, why) => {
        let message = "";
        try {
            loadPolicyConfig(file());
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).toMatch(why);
        expect(message).not.toContain("hunter2");
    });
});
