/**
 * The substitution allow-list (sovereign-faas:substituteEnv): stack.yml substitutes only the
 * variables it lists, never a credential-like one, and never reads any other variable at all.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { credentialNameRule, formatProblems, isSubstitutionAllowed, parseStackYml, StackYml } from "../../components";
import { ConfigReader } from "../../program/config-reader";
import { parseFunctionsConfig } from "../../program/settings/functions";

const SECRET = "S3CRET-a61c0de";
const HEAD = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  payments:\n    image: ghcr.io/example-no/payments:1.0.0\n";

function parse(body: string, env: Record<string, string>, substituteEnv?: string[]): StackYml {
    return parseStackYml(`${HEAD}${body}`, { file: "stack.yml", env, readFile: () => undefined, ...(substituteEnv ? { substituteEnv } : {}) });
}

function expectNoLeak(r: StackYml, ...secrets: string[]): void {
    const seen = `${formatProblems(r.problems)}\n${r.warnings.join("\n")}\n${JSON.stringify(r.problems)}`;
    for (const s of [SECRET, ...secrets]) {
        expect(seen).not.toContain(s);
    }
}

/** An environment that fails the test when a variable outside `readable` is read. */
function guardedEnv(values: Record<string, string>, readable: string[]): Record<string, string> {
    return new Proxy(values, {
        get(target, prop) {
            if (typeof prop === "string" && !readable.includes(prop)) {
                throw new Error(`read ${prop}`);
            }
            return target[prop as string];
        },
        getOwnPropertyDescriptor(target, prop) {
            if (typeof prop === "string" && !readable.includes(prop)) {
                throw new Error(`read ${prop}`);
            }
            return Reflect.getOwnPropertyDescriptor(target, prop);
        },
    });
}

describe("variables the allow-list does not name", () => {
    it("are problems naming the variable, never its value, with the fix", () => {
        const r = parse("    environment:\n      DB: ${DATABASE_URL}\n", { DATABASE_URL: `postgres://u:${SECRET}@db` });
        expect(r.problems).toEqual([
            {
                key: "stack.yml line 8, column 11",
                value: "${DATABASE_URL}",
                rule: "substitutes a variable that substituteEnv does not allow (faas-cli substitutes the whole file, comments included)",
                fix: "add DATABASE_URL to substituteEnv (an exact name, or a prefix ending in * such as FN_*), or pass the value as a function secret (functionSecrets)",
            },
        ]);
        expectNoLeak(r);
    });

    it("are never read from the environment (they substitute as unset)", () => {
        const env = guardedEnv({ FN_LEVEL: "debug", HOME_DIR: SECRET }, ["FN_LEVEL"]);
        const r = parse("    environment:\n      LEVEL: ${FN_LEVEL}\n      HOME: ${HOME_DIR:-none}\n", env, ["FN_*"]);
        expect(r.problems.map((p) => p.value)).toEqual(["${HOME_DIR}"]);
        expect(r.functions[0].environment).toEqual({ LEVEL: "debug", HOME: "none" });
    });

    it("count in comments (faas-cli substitutes them)", () => {
        const r = parse("    # built from ${GIT_SHA}\n    environment:\n      A: b\n", { GIT_SHA: SECRET });
        expect(r.problems.map((p) => [p.key, p.value])).toEqual([["stack.yml line 7, column 18", "${GIT_SHA}"]]);
        expectNoLeak(r);
    });

    it("count when only used with a default, and inside another's default", () => {
        const r = parse("    environment:\n      A: ${FN_A:-${OTHER:-x}}\n      B: ${UNSET_ONE:-fallback}\n", {}, ["FN_*"]);
        expect(r.problems.map((p) => p.value)).toEqual(["${OTHER}", "${UNSET_ONE}"]);
    });

    it("count in length, substring and replace functions", () => {
        const r = parse("    environment:\n      A: ${#HOSTNAME}\n      B: ${USER:0:1}\n      C: ${LANG//_/-}\n", { HOSTNAME: SECRET, USER: SECRET, LANG: SECRET });
        expect(r.problems.map((p) => p.value)).toEqual(["${HOSTNAME}", "${USER}", "${LANG}"]);
        expectNoLeak(r);
    });

    it("are one problem per variable, counting the other uses", () => {
        const r = parse("    environment:\n      A: ${REGION}\n      B: ${REGION}\n      C: ${REGION:-x}\n", { REGION: "NO-03" });
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([
            ["stack.yml line 8, column 10", "substitutes a variable that substituteEnv does not allow (and 2 more uses) (faas-cli substitutes the whole file, comments included)"],
        ]);
    });

    it("include the default allow-list: with no substituteEnv, nothing may be substituted", () => {
        const r = parse("    environment:\n      LEVEL: ${LOG_LEVEL}\n", { LOG_LEVEL: "debug" });
        expect(r.problems.map((p) => p.value)).toEqual(["${LOG_LEVEL}"]);
    });

    it("are matched case-sensitively and by whole prefix", () => {
        const r = parse("    environment:\n      A: ${fn_level}\n      B: ${FNLEVEL}\n      C: ${FN_LEVEL}\n", { fn_level: "x", FNLEVEL: "y", FN_LEVEL: "z" }, ["FN_*"]);
        expect(r.problems.map((p) => p.value)).toEqual(["${fn_level}", "${FNLEVEL}"]);
        expect(r.functions[0].environment.C).toBe("z");
    });

    it("include non-ASCII names (envsubst reads Unicode letters)", () => {
        const r = parse("    environment:\n      A: ${ÆØÅ}\n", { ÆØÅ: SECRET }, ["FN_*"]);
        expect(r.problems.map((p) => p.value)).toEqual(["${ÆØÅ}"]);
        expectNoLeak(r);
    });

    it("exclude escaped and bare references, which are not substitutions", () => {
        const r = parse("    environment:\n      A: $${TOKEN}\n      B: $TOKEN\n", { TOKEN: SECRET });
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment).toEqual({ A: "${TOKEN}", B: "$TOKEN" });
    });
});

describe("allowed variables", () => {
    it.each([
        [["LOG_LEVEL"], "LOG_LEVEL"],
        [["FN_*"], "FN_LEVEL"],
        [["FN_*"], "FN_"],
        [["A", "FN_*"], "A"],
        [["REGISTRY_*", "TAG"], "TAG"],
    ])("%j allows %s", (allow, name) => {
        expect(isSubstitutionAllowed(name, allow)).toBe(true);
        const r = parse(`    environment:\n      V: \${${name}}\n`, { [name]: "value-1" }, allow);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment.V).toBe("value-1");
    });
});

describe("credential-like variables are refused even when allowed", () => {
    it.each([
        "DB_PASSWORD",
        "MY_PASSWD",
        "SMTP_PASS",
        "API_KEY",
        "APIKEY",
        "STRIPE_SECRET",
        "NPM_TOKEN",
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "AWS_ACCESS_KEY_ID",
        "AWS_REGION",
        "AZURE_CLIENT_ID",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SSH_AUTH_SOCK",
        "KUBECONFIG",
        "PULUMI_CONFIG_PASSPHRASE",
        "PULUMI_ACCESS_TOKEN",
        "SESSION_ID",
        "COOKIE_JAR",
        "OPENFAAS_LICENSE",
        "TLS_CERT",
        "PRIVATE_URL",
        "oauth_client",
        "db_credential",
        "VAULT_ADDR",
    ])("%s", (name) => {
        expect(credentialNameRule(name)).toBeDefined();
        const r = parse(`    environment:\n      V: \${${name}:-x}\n`, guardedEnv({ [name]: SECRET }, []), [name, `${name.slice(0, 2)}*`]);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].key).toBe("stack.yml line 8, column 10");
        expect(r.problems[0].value).toBe(`\${${name}}`);
        expect(r.problems[0].rule).toMatch(/^substitutes a credential-like variable: /);
        expect(r.problems[0].fix).toMatch(/^use functionSecrets: list a secret under the function's secrets:/);
        // The value is never read: the default applies.
        expect(r.functions[0].environment.V).toBe("x");
        expectNoLeak(r);
    });

    it("does not flag ordinary names", () => {
        for (const name of ["LOG_LEVEL", "FN_REGION", "TAG", "REGISTRY", "UPSTREAM_URL", "GATEWAY"]) {
            expect(credentialNameRule(name)).toBeUndefined();
        }
    });
});

describe("sovereign-faas:substituteEnv in the stack config", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-allow-"));
    fs.writeFileSync(path.join(root, "stack.yml"), `${HEAD}    environment:\n      LEVEL: \${FN_LEVEL:-info}\n      SHA: \${GIT_SHA:-dev}\n`);
    const run = (substituteEnv: unknown, env: Record<string, string> = {}) => {
        const r = new ConfigReader(substituteEnv === undefined ? {} : { substituteEnv: typeof substituteEnv === "string" ? substituteEnv : JSON.stringify(substituteEnv) });
        const settings = parseFunctionsConfig(r, { rootDir: root, env, secret: (v) => v as never });
        return { settings, problems: r.problems.items.map((p) => `${p.key} | ${JSON.stringify(p.value)} | ${p.rule}`) };
    };
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

    it("defaults to no variable at all", () => {
        const { problems, settings } = run(undefined, { FN_LEVEL: "debug", GIT_SHA: "abc" });
        expect(settings.substituteEnv).toEqual([]);
        expect(problems).toEqual([
            'stack.yml line 8, column 14 | "${FN_LEVEL}" | substitutes a variable that sovereign-faas:substituteEnv does not allow (faas-cli substitutes the whole file, comments included)',
            'stack.yml line 9, column 12 | "${GIT_SHA}" | substitutes a variable that sovereign-faas:substituteEnv does not allow (faas-cli substitutes the whole file, comments included)',
        ]);
    });

    it("allows names and prefixes", () => {
        const { problems, settings } = run(["FN_*", "GIT_SHA"], { FN_LEVEL: "debug", GIT_SHA: "abc" });
        expect(problems).toEqual([]);
        expect(settings.functions[0].environment).toEqual({ LEVEL: "debug", SHA: "abc" });
    });

    it.each([
        ["*", "would allow every variable of the environment"],
        ["1ABC", "must be a variable name (letters, digits, '_', not starting with a digit), or a prefix of one ending in *"],
        ["FN-X", "must be a variable name (letters, digits, '_', not starting with a digit), or a prefix of one ending in *"],
        ["FN_*_X", "must be a variable name (letters, digits, '_', not starting with a digit), or a prefix of one ending in *"],
        ["", "must be a variable name (letters, digits, '_', not starting with a digit), or a prefix of one ending in *"],
        ["AWS_*", "names credentials (names starting with AWS_ hold cloud or CI credentials): substitution would copy them into the Deployments' plain env"],
        ["FN_TOKEN", "names credentials (its name contains TOKEN): substitution would copy them into the Deployments' plain env"],
        ["KUBECONFIG", "names credentials (KUBECONFIG holds credentials): substitution would copy them into the Deployments' plain env"],
    ])("refuses the entry %j", (entry, rule) => {
        const { problems } = run(["FN_*", "GIT_SHA", entry]);
        expect(problems).toEqual([`sovereign-faas:substituteEnv[2] | ${JSON.stringify(entry)} | ${rule}`]);
    });

    it("refuses a value that is not a list", () => {
        expect(run("FN_*").problems[0]).toBe('sovereign-faas:substituteEnv | "FN_*" | must be a list of strings');
        expect(run({ a: 1 }).problems[0]).toBe('sovereign-faas:substituteEnv | {"a":1} | must be a list of strings');
    });
});
