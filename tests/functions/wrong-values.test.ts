/**
 * Wrong values in a function: each is a problem naming the key path (`stack.yml:
 * functions.payments.environment.1BAD`), never a crash, and never showing an environment value.
 */
import { formatProblems, MAX_FUNCTION_NAME_LENGTH, MAX_SCALE_REPLICAS, parseStackYml, StackYml } from "../../components";

const SECRET = "S3CRET-w0rngv4l";
const TOP = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n";
const IMAGE = "    image: ghcr.io/example-no/payments:1.0.0\n";
const parse = (text: string): StackYml => parseStackYml(text, { file: "stack.yml", env: {}, readFile: () => undefined });
const fn = (body: string, image = IMAGE): string => `${TOP}  payments:\n${image}${body}`;
const at = (field: string): string => `stack.yml: functions.payments.${field}`;

function expectNoLeak(r: StackYml): void {
    const seen = `${formatProblems(r.problems)}\n${r.warnings.join("\n")}\n${JSON.stringify(r.problems)}`;
    expect(seen).not.toContain(SECRET);
}

/** The keys of the problems, after checking no message shows the secret. */
function keys(text: string): string[] {
    const r = parse(text);
    expectNoLeak(r);
    return r.problems.map((p) => p.key);
}

describe("environment variable names (Kubernetes IsEnvVarName)", () => {
    it.each([["1BAD"], ["BAD NAME"], ["A=B"], ["."], [".."], ["..x"], ["ÆØÅ"], ["a:b"], ["$HOME"], ["a/b"], ['""']])("%s", (name) => {
        const shownKey = name === '""' ? '""' : name.includes(" ") ? JSON.stringify(name) : name;
        expect(keys(fn(`    environment:\n      ${name.includes(" ") || name.startsWith("$") || name === "." || name === ".." || name === "..x" ? JSON.stringify(name) : name}: ${SECRET}\n`))).toEqual([
            at(`environment.${shownKey}`),
        ]);
    });

    it.each([["MY_VAR"], ["my.env-name"], ["-dash"], ["_x"], ["MyEnvName1"], [".x"]])("%s is valid", (name) => {
        const r = parse(fn(`    environment:\n      ${JSON.stringify(name)}: v\n`));
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment[name]).toBe("v");
    });
});

describe("environment values", () => {
    it.each([
        ["a map", "{nested: S3CRET-w0rngv4l}"],
        ["a list", "[S3CRET-w0rngv4l]"],
        ["a NUL escape", '"S3CRET-w0rngv4l\\0"'],
        ["an ANSI escape", '"\\e[31mS3CRET-w0rngv4l"'],
        ["a bell", '"\\aS3CRET-w0rngv4l"'],
        ["a bidirectional override", '"\\u202eS3CRET-w0rngv4l"'],
        ["a C1 control", '"\\x85S3CRET-w0rngv4l"'],
        ["DEL", '"\\x7fS3CRET-w0rngv4l"'],
    ])("%s is refused without being shown", (_name, value) => {
        const r = parse(fn(`    environment:\n      TOKEN: ${value}\n`));
        expect(r.problems.map((p) => [p.key, p.value])).toEqual([[at("environment.TOKEN"), "[value not shown]"]]);
        expectNoLeak(r);
    });

    it("keeps tabs and new lines (certificates, multi-line values)", () => {
        const r = parse(fn('    environment:\n      PEM: "a\\tb\\nc"\n'));
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment.PEM).toBe("a\tb\nc");
    });

    it("environment as a list or a text is refused", () => {
        expect(keys(fn("    environment:\n      - A=b\n"))).toEqual([at("environment")]);
        expect(keys(fn("    environment: A=b\n"))).toEqual([at("environment")]);
    });
});

describe("labels and annotations (Kubernetes qualified names, label values)", () => {
    it.each([["-bad"], ["bad-"], ["a/b/c"], ["Example.no/team"], ["/team"], ["example.no/"], ["x".repeat(64)], ["has space"], ["ütf"], ["a_/b"]])("label key %s", (key) => {
        const shownKey = key.includes(" ") ? JSON.stringify(key) : key;
        expect(keys(fn(`    labels:\n      ${JSON.stringify(key)}: v\n`))).toEqual([at(`labels.${shownKey}`)]);
        expect(keys(fn(`    annotations:\n      ${JSON.stringify(key)}: v\n`))).toEqual([at(`annotations.${shownKey}`)]);
    });

    it.each([["x".repeat(64)], ["has space"], ["-x"], ["x-"], ["a/b"], ["ü"], ["a\\u0000"]])("label value %s", (value) => {
        const r = parse(fn(`    labels:\n      team: "${value}"\n`));
        expect(r.problems.map((p) => p.key)).toEqual([at("labels.team")]);
    });

    it("valid qualified names and values", () => {
        const r = parse(fn(`    labels:\n      example.no/team: payments\n      a_b.c-d: "${"x".repeat(63)}"\n      empty: ""\n    annotations:\n      example.no/note: "free text, with spaces: fine"\n`));
        expect(r.problems).toEqual([]);
    });

    it("a label value that is a list or map, or labels that are a list", () => {
        expect(keys(fn("    labels:\n      team: [a]\n"))).toEqual([at("labels.team")]);
        expect(keys(fn("    labels:\n      team: {a: b}\n"))).toEqual([at("labels.team")]);
        expect(keys(fn("    labels: [team]\n"))).toEqual([at("labels")]);
        expect(keys(fn("    annotations: note\n"))).toEqual([at("annotations")]);
    });
});

describe("replica labels", () => {
    it.each([["abc"], ["-1"], ["1.5"], ["1e3"], [String(MAX_SCALE_REPLICAS + 1)], ["99999999999999999999"], [" 1"], ["+1"], [""]])("com.openfaas.scale.min %j", (v) => {
        const r = parse(fn(`    labels:\n      com.openfaas.scale.min: "${v}"\n`));
        // " 1", "-1" and "+1" are not label values either: both rules are broken.
        const notLabelValue = [" 1", "-1", "+1"].includes(v);
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([
            ...(notLabelValue ? [[at("labels.com.openfaas.scale.min"), "must be a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)"]] : []),
            [at("labels.com.openfaas.scale.min"), `must be a whole number of replicas from 0 to ${MAX_SCALE_REPLICAS}`],
        ]);
    });

    it("min above max", () => {
        const r = parse(fn('    labels:\n      com.openfaas.scale.min: "5"\n      com.openfaas.scale.max: "2"\n'));
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([[at("labels.com.openfaas.scale.min"), "must not be above com.openfaas.scale.max (2)"]]);
    });

    it("max out of range, written as a number", () => {
        expect(keys(fn("    labels:\n      com.openfaas.scale.max: 5000\n"))).toEqual([at("labels.com.openfaas.scale.max")]);
    });

    it.each([["0", "0"], ["1", "1000"], ["3", "3"]])("min %s max %s are fine", (min, max) => {
        expect(parse(fn(`    labels:\n      com.openfaas.scale.min: "${min}"\n      com.openfaas.scale.max: "${max}"\n`)).problems).toEqual([]);
    });
});

describe("images (Docker reference grammar)", () => {
    it.each([
        ["upper/Case:1"],
        ["ghcr.io/Example/a:1"],
        ["x:bad tag"],
        ["x:bad!tag"],
        ["x:-leading"],
        [`x:${"t".repeat(129)}`],
        ["x@sha256:short"],
        ["x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"],
        ["x@md5:0123456789abcdef0123456789abcdef"],
        ["x:"],
        [":1"],
        ["x//y:1"],
        ["https://ghcr.io/x:1"],
        ["x y:1"],
        ["ghcr.io:port/x:1"],
        ["a__-b:1"],
        [`${"a".repeat(256)}:1`],
    ])("%s", (image) => {
        const r = parse(fn("", `    image: ${JSON.stringify(image)}\n`));
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([
            [at("image"), "must be a Docker image reference: [registry[:port]/]lower-case/path[:tag][@sha256:<64 hex>] (a tag is letters, digits, '_', '.', '-', at most 128)"],
        ]);
    });

    it.each([
        ["nginx:1.27"],
        ["localhost:5000/a/b:1"],
        ["[::1]:5000/a:1"],
        ["ghcr.io/example-no/a_b.c-d:1.0.0-rc.1"],
        ["ghcr.io/example-no/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
        ["registry.example.no:443/team/app:v2"],
    ])("%s is valid", (image) => {
        expect(parse(fn("", `    image: ${JSON.stringify(image)}\n`)).problems).toEqual([]);
    });

    it("a missing, empty, or map image", () => {
        expect(keys(fn("", ""))).toEqual([at("image")]);
        expect(keys(fn("", '    image: ""\n'))).toEqual([at("image")]);
        expect(keys(fn("", "    image: {name: x}\n"))).toEqual([at("image")]);
    });
});

describe("limits and requests (Kubernetes quantities)", () => {
    it.each([
        ["limits", "memory", "lots"],
        ["limits", "memory", "-1Gi"],
        ["limits", "memory", "1Gb"],
        ["limits", "memory", "1e3x"],
        ["requests", "memory", "0.5m"],
        ["limits", "cpu", "1.2.3"],
        ["limits", "cpu", "-1"],
        ["requests", "cpu", "100mm"],
        ["requests", "cpu", "half"],
    ])("%s.%s %s", (field, key, value) => {
        expect(keys(fn(`    ${field}:\n      ${key}: "${value}"\n`))).toEqual([at(`${field}.${key}`)]);
    });

    it.each([
        ["a list", "    limits:\n      - memory: 128Mi\n", "limits"],
        ["a text", "    limits: 128Mi\n", "limits"],
        ["a map as memory", "    limits:\n      memory: {value: 128Mi}\n", "limits.memory"],
        ["a list as cpu", "    requests:\n      cpu: [100m]\n", "requests.cpu"],
    ])("%s is a problem, not a crash", (_name, body, field) => {
        expect(keys(fn(body))).toEqual([at(field)]);
    });

    it("numbers and suffixes Kubernetes accepts", () => {
        const r = parse(fn("    limits:\n      memory: 1Gi\n      cpu: 2\n    requests:\n      memory: 134217728\n      cpu: 0.25\n"));
        expect(r.problems).toEqual([]);
        expect(r.functions[0].limits).toEqual({ memory: "1Gi", cpu: "2" });
        expect(r.functions[0].requests).toEqual({ memory: "134217728", cpu: "0.25" });
    });
});

describe("function names", () => {
    const rule = `a function name must be DNS-1123: lower-case letters, digits and '-', starting with a letter (it names the function's Service) and ending with a letter or digit, at most ${MAX_FUNCTION_NAME_LENGTH} characters (the pod's volume <name>-projected-secrets must stay within 63)`;
    it.each([["a".repeat(MAX_FUNCTION_NAME_LENGTH + 1)], ["1abc"], ["a_b"], ["-a"], ["a-"], ["Payments"], ["a.b"], ["ø"], ['""']])("%s", (name) => {
        const r = parse(`${TOP}  ${name}:\n${IMAGE}`);
        expect(r.problems.map((p) => p.rule)).toEqual([rule]);
        expect(r.problems[0].key).toMatch(/^stack\.yml: functions\./);
        expect(r.functions).toEqual([]);
    });

    it(`${MAX_FUNCTION_NAME_LENGTH} characters is the longest, and its projected-secrets volume stays a DNS label`, () => {
        const name = `a${"b".repeat(MAX_FUNCTION_NAME_LENGTH - 1)}`;
        const r = parse(`${TOP}  ${name}:\n${IMAGE}`);
        expect(r.problems).toEqual([]);
        expect(`${name}-projected-secrets`.length).toBeLessThanOrEqual(63);
    });

    it("a name with control characters is shown escaped", () => {
        const r = parse(`${TOP}  "a\\u001b[2Jb":\n${IMAGE}`);
        expect(r.problems[0].key).toBe('stack.yml: functions."a\\u001b[2Jb"');
        expect(r.problems[0].value).toBe("a\\u001b[2Jb");
    });
});

describe("booleans, lists, namespaces", () => {
    it.each([['"true"'], ["1"], ["maybe"], ["[true]"], ["{a: b}"]])("readonly_root_filesystem: %s", (v) => {
        expect(keys(fn(`    readonly_root_filesystem: ${v}\n`))).toEqual([at("readonly_root_filesystem")]);
    });

    it.each([["true", true], ["yes", true], ["on", true], ["false", false], ["no", false], ["~", false]])("readonly_root_filesystem: %s is %s (as yaml.v3 reads a bool)", (v, want) => {
        const r = parse(fn(`    readonly_root_filesystem: ${v}\n`));
        expect(r.problems).toEqual([]);
        expect(r.functions[0].readonlyRootFilesystem).toBe(want);
    });

    it.each([
        ["secrets: api-key", "secrets"],
        ["secrets: [Api-Key]", "secrets[0]"],
        ["secrets: [a_b]", "secrets[0]"],
        ["secrets: [{name: x}]", "secrets[0]"],
        ["constraints: \"a == b\"", "constraints"],
        ["constraints: [\"a != b\"]", "constraints[0]"],
        ["constraints: [\"== b\"]", "constraints[0]"],
        ["environment_file: env.yml", "environment_file"],
        ["environment_file: [[a]]", "environment_file[0]"],
        ["namespace: Bad_NS", "namespace"],
        ["namespace: [a]", "namespace"],
        ["fprocess: [python]", "fprocess"],
        ['fprocess: "python\\u0007"', "fprocess"],
        ["skip_build: sometimes", "skip_build"],
        ["build_options: dev", "build_options"],
        ["build_args: [A=b]", "build_args"],
        ["lang: {a: b}", "lang"],
    ])("%s", (body, field) => {
        expect(keys(fn(`    ${body}\n`))).toEqual([at(field)]);
    });

    it("a function that is a list or a text", () => {
        expect(keys(`${TOP}  payments: [a]\n`)).toEqual(["stack.yml: functions.payments"]);
        expect(keys(`${TOP}  payments: text\n`)).toEqual(["stack.yml: functions.payments"]);
    });

    it("functions that are a list, provider that is a text, version that is not 1.0", () => {
        expect(keys("version: 1.0\nprovider:\n  name: openfaas\nfunctions: [a]\n")).toEqual(["stack.yml: functions"]);
        expect(keys("version: 1.0\nprovider: openfaas\n")).toEqual(["stack.yml: provider"]);
        expect(keys("version: 1\nprovider:\n  name: openfaas\n")).toEqual(["stack.yml: version"]);
        expect(keys("version: 2.0\nprovider:\n  name: openfaas\n")).toEqual(["stack.yml: version"]);
    });

    it("reports every wrong value of a file at once", () => {
        const r = parse(fn("    environment:\n      1BAD: x\n    labels:\n      -bad: v\n    limits:\n      memory: lots\n    readonly_root_filesystem: maybe\n", "    image: UPPER:1\n"));
        expect(r.problems.map((p) => p.key)).toEqual([at("image"), at("environment.1BAD"), at("labels.-bad"), at("limits.memory"), at("readonly_root_filesystem")]);
    });
});
