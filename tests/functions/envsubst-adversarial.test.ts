/**
 * Substitution errors and limits through the public parser: every bad text gives a problem that
 * names the file, line and column, and never the line's text (which may hold a secret).
 */
import { ENVSUBST_MAX_NESTING, ENVSUBST_MAX_SUBSTITUTIONS, formatProblems, parseStackYml, StackYml } from "../../components";

const SECRET = "S3CRET-7f3a9c";
const HEAD = "version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  payments:\n";

function parse(text: string, env: Record<string, string> = {}, substituteEnv: string[] = []): StackYml {
    return parseStackYml(text, { file: "stack.yml", env, readFile: () => undefined, substituteEnv });
}

/** Nothing a user sees holds the secret. */
function expectNoLeak(r: StackYml, ...secrets: string[]): void {
    const seen = `${formatProblems(r.problems)}\n${r.warnings.join("\n")}\n${JSON.stringify(r.problems)}`;
    for (const s of [SECRET, ...secrets]) {
        expect(seen).not.toContain(s);
    }
}

describe("envsubst syntax errors: problem at line and column, never the text", () => {
    // [name, line 6 (image) text, column of the `${`, the reason upstream gives]
    it.each([
        ["bash default with -", "    image: ${TAG-latest} # S3CRET-7f3a9c", 12, "missing closing brace"],
        ["bash alternative with +", "    image: x/y:${TAG+1} # S3CRET-7f3a9c", 16, "missing closing brace"],
        ["bash error with ?", "    image: x/y:${TAG?unset} # S3CRET-7f3a9c", 16, "missing closing brace"],
        ["unclosed", "    image: x/y:${TAG # S3CRET-7f3a9c", 16, "missing closing brace"],
        ["empty name", "    image: x/y:${} # S3CRET-7f3a9c", 16, "unable to parse variable name"],
        ["dotted name", "    image: ${A.B}/y:1 # S3CRET-7f3a9c", 12, "missing closing brace"],
        ["space in name", "    image: ${ TAG}/y:1 # S3CRET-7f3a9c", 12, "unable to parse variable name"],
        ["bang", "    image: ${!TAG}/y:1 # S3CRET-7f3a9c", 12, "unable to parse variable name"],
        ["length of nothing", "    image: ${#}/y:1 # S3CRET-7f3a9c", 12, "bad substitution"],
        ["replace without second slash", "    image: ${TAG/x}/y:1 # S3CRET-7f3a9c", 12, "bad substitution"],
        ["empty substring", "    image: ${TAG:}/y:1 # S3CRET-7f3a9c", 12, "unable to parse substitution within function"],
        ["remove nothing", "    image: ${TAG#}/y:1 # S3CRET-7f3a9c", 12, "unable to parse substitution within function"],
        ["casing then text", "    image: ${TAG^x}/y:1 # S3CRET-7f3a9c", 12, "bad substitution"],
        ["nested unclosed", "    image: ${A:-${B # S3CRET-7f3a9c", 17, "missing closing brace"],
        ["nested bash default", "    image: ${A:-${B-x}} # S3CRET-7f3a9c", 17, "missing closing brace"],
        ["default never closed", "    image: ${A:-x # S3CRET-7f3a9c", 12, "unable to parse substitution within function"],
        ["in a comment", "    # pin with ${TAG-1.0.0} S3CRET-7f3a9c\n    image: x/y:1", 16, "missing closing brace"],
    ])("%s", (_name, line, column, reason) => {
        const r = parse(`${HEAD}${line}\n`);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].key).toBe(`stack.yml line 6, column ${column}`);
        expect(r.problems[0].value).toBe("${");
        expect(r.problems[0].rule).toContain(`: ${reason} (faas-cli runs drone/envsubst over the whole file, comments included`);
        expect(r.functions).toEqual([]);
        expectNoLeak(r);
    });

    it("counts the column in characters, after multi-byte ones", () => {
        const r = parse(`${HEAD}    environment:\n      NOTE: "ÆØÅ ${"${X-1}"}"\n`);
        expect(r.problems[0].key).toBe("stack.yml line 7, column 18");
    });

    it("points at a later line", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      A: a\n      B: \${B\n`);
        expect(r.problems[0].key).toBe("stack.yml line 9, column 10");
    });
});

describe("envsubst crashes and limits", () => {
    it("refuses a negative substring length, on which faas-cli's envsubst panics", () => {
        const r = parse(`${HEAD}    image: x/y:\${TAG:2:-1}\n`, { TAG: `1.0.0-${SECRET}` }, ["TAG"]);
        expect(r.problems.map((p) => [p.key, p.rule])).toEqual([["stack.yml", "makes faas-cli's envsubst crash: a substring with a negative length (Go panics: slice bounds out of range [2:1])"]]);
        expectNoLeak(r);
    });

    it(`refuses substitutions nested more than ${ENVSUBST_MAX_NESTING} deep`, () => {
        const deep = `${"${A:-".repeat(ENVSUBST_MAX_NESTING + 1)}x${"}".repeat(ENVSUBST_MAX_NESTING + 1)}`;
        const r = parse(`${HEAD}    image: ${deep}\n`, {}, ["A"]);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].rule).toBe(`cannot be substituted: substitutions nested more than ${ENVSUBST_MAX_NESTING} deep`);
        expect(r.problems[0].key).toMatch(/^stack\.yml line 6, column \d+$/);
    });

    it(`accepts nesting ${ENVSUBST_MAX_NESTING} deep`, () => {
        const deep = `${"${A:-".repeat(ENVSUBST_MAX_NESTING)}x/y:1${"}".repeat(ENVSUBST_MAX_NESTING)}`;
        const r = parse(`${HEAD}    image: ${deep}\n`, {}, ["A"]);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].image).toBe("x/y:1");
    });

    it(`refuses more than ${ENVSUBST_MAX_SUBSTITUTIONS} substitutions`, () => {
        const r = parse(`${HEAD}    image: x/y:1\n# ${"${A}".repeat(ENVSUBST_MAX_SUBSTITUTIONS + 1)}\n`, {}, ["A"]);
        expect(r.problems.map((p) => p.rule)).toEqual([`cannot be substituted: more than ${ENVSUBST_MAX_SUBSTITUTIONS} substitutions`]);
    });

    it("refuses a replacement that would blow up past 8 MiB, without building it", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      BIG: \${A//x/\${B}}\n`, { A: "x".repeat(100_000), B: "y".repeat(100) }, ["A", "B"]);
        expect(r.problems.map((p) => p.rule)).toEqual([`cannot be substituted: a replacement would produce more than ${8 * 1024 * 1024} bytes`]);
    });

    it("refuses a substring that cuts a multi-byte character (the result is not UTF-8)", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      CUT: \${NAME:1:1}\n`, { NAME: "Ærlig" }, ["NAME"]);
        expect(r.problems.map((p) => p.rule)).toEqual(["is not UTF-8 after substitution (a ${NAME:offset:length} cut a multi-byte character)"]);
    });

    it("refuses a NUL byte (faas-cli's envsubst stops reading at it)", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      A: "a\u0000${SECRET}"\n`);
        expect(r.problems.map((p) => [p.key, p.value])).toEqual([["stack.yml line 8, column 12", "NUL"]]);
        expectNoLeak(r);
    });
});

describe("envsubst semantics faas-cli users rely on", () => {
    it("keeps $$ as a literal $ and leaves a bare $NAME alone, with no reference to allow", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      LITERAL: $\${HOME}\n      BARE: $HOME\n      BOTH: $$$HOME\n`, { HOME: SECRET });
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment).toEqual({ LITERAL: "${HOME}", BARE: "$HOME", BOTH: "$$HOME" });
        expectNoLeak(r);
    });

    it("substitutes after a backslash (\\$ is no escape), so the reference counts", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      A: \\\${HOME}\n`, { HOME: SECRET });
        expect(r.problems.map((p) => p.value)).toEqual(["${HOME}"]);
        expectNoLeak(r);
    });

    it("gives the default for :?, :+ and = too (upstream's toDefault), never an error", () => {
        const r = parse(`${HEAD}    image: x/y:1\n    environment:\n      Q: \${U:?q}\n      P: \${U:+p}\n      E: \${U=e}\n      S: \${S:+p}\n`, { S: "set" }, ["U", "S"]);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].environment).toEqual({ Q: "q", P: "p", E: "e", S: "set" });
    });

    it("runs the bash string functions", () => {
        const r = parse(`${HEAD}    image: \${IMG,,}:\${TAG#v}\n    environment:\n      MAJOR: \${TAG%%.*}\n      LEN: \${#TAG}\n      SUB: \${TAG:1:3}\n`, { IMG: "GHCR.IO/EXAMPLE/Y", TAG: "v1.2.3" }, ["IMG", "TAG"]);
        expect(r.problems).toEqual([]);
        expect(r.functions[0].image).toBe("ghcr.io/example/y:1.2.3");
        expect(r.functions[0].environment).toEqual({ MAJOR: "v1", LEN: "6", SUB: "1.2" });
    });

    it("substitutes comments as faas-cli does: a value there can break the YAML", () => {
        const r = parse(`${HEAD}    image: x/y:1 # \${NOTE}\n    environment:\n      A: b\n`, { NOTE: `x\n  bad: [${SECRET}` }, ["NOTE"]);
        expect(r.problems).toHaveLength(1);
        expect(r.problems[0].key).toMatch(/^stack\.yml \(after substitution\) line \d+, column \d+$/);
        expect(r.problems[0].rule).toMatch(/^is not valid YAML/);
        expectNoLeak(r);
    });
});
