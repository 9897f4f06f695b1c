/**
 * The cases the differential oracle runs (see run.sh): envsubst texts with their variables,
 * stack files (tests/functions/fixtures/stacks/*.yml plus inline ones) and environment files.
 * `npx tsx tests/functions/oracle/cases.ts` prints them as the oracle's stdin.
 */
import * as fs from "fs";
import * as path from "path";

export interface EnvsubstCase {
    readonly id: string;
    readonly input: string;
    /** Bytes that are not UTF-8 (JSON cannot carry them as text). */
    readonly inputBase64?: string;
    readonly env: Readonly<Record<string, string>>;
}

export interface StackCase {
    readonly id: string;
    readonly text: string;
    readonly env: Readonly<Record<string, string>>;
}

export interface EnvFileCase {
    readonly id: string;
    readonly text: string;
}

/** The variables most envsubst cases run with. */
export const ENV: Readonly<Record<string, string>> = {
    VAR: "hello",
    EMPTY: "",
    UPPER: "HELLO World",
    FILE: "archive.tar.gz",
    PATHS: "/usr/local/bin:/usr/bin",
    UNI: "héllo wörld",
    NUM: "12345",
    SP: " spaced ",
    DOLLAR: "$HOME",
    BRACES: "${VAR}",
    IMG: "ghcr.io/example-no/resize",
    TAG: "1.2.3",
    B: "inner",
    SLASHES: "a/b/c",
    TITLE: "ǆemal ßtraße İstanbul",
    GREEK: "ᾳ ᾀ σς",
};

/** Operators, each run over several variables (set, empty, unset, multi-byte, ...). */
const OPERATORS: readonly string[] = [
    "${X}",
    "${X:-def}",
    "${X=def}",
    "${X:=def}",
    "${X:?def}",
    "${X:+def}",
    "${X-def}",
    "${X+def}",
    "${X?def}",
    "${#X}",
    "${X^}",
    "${X^^}",
    "${X,}",
    "${X,,}",
    "${X,^}",
    "${X^,}",
    "${X:1}",
    "${X:1:2}",
    "${X:-1}",
    "${X: -2}",
    "${X:0}",
    "${X:100}",
    "${X:1:100}",
    "${X: -100}",
    "${X: -3:2}",
    "${X:+1}",
    "${X/l/L}",
    "${X//l/L}",
    "${X/#h/H}",
    "${X/%o/O}",
    "${X/l}",
    "${X/l/}",
    "${X//l}",
    "${X/#h}",
    "${X#h*}",
    "${X##*l}",
    "${X%l*}",
    "${X%%l*}",
    "${X#*.}",
    "${X##*.}",
    "${X%.*}",
    "${X%%.*}",
    "${X#[a-z]}",
    "${X#?}",
    "${X%?}",
];

const VARIABLES = ["VAR", "EMPTY", "UNSET", "UNI", "FILE"] as const;

/** Hand-written cases: escapes, errors, nesting, edges. */
const SPECIAL: ReadonlyArray<readonly [string, string, Readonly<Record<string, string>>?]> = [
    // Only ${ opens a substitution.
    ["bare-dollar", "$VAR and $ alone and $"],
    ["bare-dollar-digit", "$1 $@ $* $$VAR"],
    ["text-only", "no substitution at all"],
    ["empty", ""],
    // Escapes.
    ["escape-dollar", "$${VAR}"],
    ["escape-dollar-dollar", "$$"],
    ["escape-three-dollars", "$$$"],
    ["escape-four-dollars", "$$$$"],
    ["escape-three-then-sub", "$$${VAR}"],
    ["escape-backslash", "a\\\\b"],
    ["escape-slash", "a\\/b"],
    ["backslash-dollar", "\\${VAR}"],
    ["backslash-n", "a\\nb"],
    ["backslash-alone", "\\"],
    ["backslash-end", "x\\"],
    ["double-backslash-sub", "\\\\${VAR}"],
    ["dollar-in-default", "${UNSET:-$$x}"],
    ["escape-in-replace", "${SLASHES//\\//-}"],
    ["escape-backslash-in-replace", "${SLASHES/a/\\\\}"],
    ["escape-dollar-in-replace", "${VAR/h/$$}"],
    // Errors.
    ["err-open-only", "${"],
    ["err-empty-name", "${}"],
    ["err-no-close", "${VAR"],
    ["err-no-close-default", "${VAR:-x"],
    ["err-dot-name", "${A.B}"],
    ["err-dash-name", "${A-B}"],
    ["err-space-name", "${ VAR}"],
    ["err-space-after", "${VAR }"],
    ["err-nested-name", "${${VAR}}"],
    ["err-bang", "${!VAR}"],
    ["err-at", "${@}"],
    ["err-star", "${*}"],
    ["err-len-nothing", "${#}"],
    ["err-len-hash-hash", "${##}"],
    ["err-len-with-op", "${#VAR:-x}"],
    ["err-substr-empty", "${VAR:}"],
    ["err-remove-empty", "${VAR#}"],
    ["err-remove-empty-pct", "${VAR%}"],
    ["err-replace-no-delim", "${VAR/x}"],
    ["err-replace-empty-pattern", "${VAR//}"],
    ["err-replace-three", "${VAR///x}"],
    ["err-casing-extra", "${VAR^^^}"],
    ["err-casing-then-text", "${VAR^x}"],
    ["err-second-line", "line one\nline ${two"],
    ["err-in-comment", "a: 1 # ${VAR-d}\n"],
    ["err-unclosed-nested", "${A:-${B"],
    ["err-nested-bad", "${A:-${B-x}}"],
    ["err-substr-multibyte-after-colon", "${VAR:é}"],
    ["err-remove-nested-then-text", "${VAR#${B}x}"],
    ["err-question-default", "${VAR?}"],
    ["err-plus-default", "${VAR+}"],
    ["err-eq-eq", "${VAR==}"],
    // Nesting.
    ["nest-default", "${UNSET:-${B:-x}}"],
    ["nest-default-set", "${VAR:-${B:-x}}"],
    ["nest-deep", "${U1:-${U2:-${U3:-${B}}}}"],
    ["nest-default-two-parts", "${UNSET:-${B}-and-${VAR}}"],
    ["nest-substr", "${VAR:${NUM:0:1}}"],
    ["nest-replace-pattern", "${VAR/${EMPTY}/X}"],
    ["nest-replace-value", "${VAR//l/${B}}"],
    ["nest-replace-empty-pattern", "${VAR/${UNSET}/<}"],
    ["nest-replace-all-empty-pattern", "${VAR//${UNSET}/.}"],
    ["nest-prefix-empty", "${VAR/#${UNSET}/>}"],
    ["nest-suffix-empty", "${VAR/%${UNSET}/<}"],
    ["nest-remove-pattern", "${FILE%.${B}}"],
    ["nest-remove-nested-pattern", "${FILE#${UNSET:-arch}}"],
    // Stray braces and text around.
    ["stray-close", "${UNSET:-a}b}"],
    ["stray-close-alone", "}"],
    ["open-brace-alone", "{VAR}"],
    ["two-subs", "${VAR}${VAR}"],
    ["sub-in-word", "pre${VAR}post"],
    ["url", "https://${HOST:-api.example.no}/v1?k=${KEY}", { KEY: "k1" }],
    ["image-default", "${USER:-openfaas}/image:latest", { USER: "alexellis2" }],
    ["image-default-empty", "${USER:-openfaas}/image:latest", { USER: "" }],
    ["image-default-unset", "${USER:-openfaas}/image:latest", {}],
    ["names-digits", "${1} ${0} ${_} ${_x1}", { "1": "one", _: "under", _x1: "x" }],
    ["names-unicode", "${é}", { é: "accent" }],
    ["names-unicode-digit", "${٣}", { "٣": "arabic three" }],
    ["names-case", "${var} ${VAR}", { var: "lower" }],
    ["values-with-dollar", "${DOLLAR}"],
    ["values-with-braces-not-resubstituted", "${BRACES}"],
    ["multi-line", "a: ${VAR}\nb: ${UNSET:-x}\n# c: ${B}\n"],
    ["yaml-like", "functions:\n  f:\n    image: ${IMG}:${TAG:-latest}\n"],
    ["crlf", "a: ${VAR}\r\nb: ${B}\r\n"],
    ["tab", "\t${VAR}\t"],
    ["unicode-text", "ünïcödé ${VAR} 日本"],
    ["emoji-text", "🙂 ${VAR} 🙂"],
    ["nul-in-text", "before\u0000${VAR}after"],
    ["nul-in-name", "${VA\u0000R}"],
    ["control-in-text", "a\u0007${VAR}"],
    // Substrings: bytes, not characters; Go panics on a negative length.
    ["substr-cuts-multibyte", "${UNI:1:1}"],
    ["substr-cuts-multibyte-2", "${UNI:2}"],
    ["substr-negative-multibyte", "${UNI: -3}"],
    ["substr-len-zero", "${VAR:1:0}"],
    ["substr-plus-sign", "${VAR:+2}"],
    ["substr-explicit-plus", "${VAR: +2}"],
    ["substr-leading-zero", "${VAR:01:02}"],
    ["substr-not-number", "${VAR:x}"],
    ["substr-second-not-number", "${VAR:1:x}"],
    ["substr-three-parts", "${VAR:1:2:3}"],
    ["substr-double-colon", "${VAR:1::2}"],
    ["substr-huge-pos", "${VAR:99999999999999999999}"],
    ["substr-huge-len", "${VAR:1:99999999999999999999}"],
    ["panic-negative-length", "${VAR:2:-1}"],
    ["panic-negative-length-zero-pos", "${VAR:0:-1}"],
    ["panic-overflow", "${VAR:1:9223372036854775807}"],
    ["substr-negative-length-empty", "${EMPTY:0:-1}"],
    ["substr-negative-length-past-end", "${VAR:10:-1}"],
    ["substr-max-int", "${VAR:9223372036854775807}"],
    ["substr-min-int", "${VAR: -9223372036854775808}"],
    // Casing, Unicode.
    ["case-title-upper", "${TITLE^^}"],
    ["case-title-lower", "${TITLE,,}"],
    ["case-title-first", "${TITLE^}"],
    ["case-greek-upper", "${GREEK^^}"],
    ["case-greek-lower", "${GREEK,,}"],
    ["case-upper-first-lower", "${UPPER,}"],
    ["case-dotted-i-lower", "${TITLE,,}"],
    ["len-unicode", "${#UNI}"],
    ["len-empty", "${#EMPTY}"],
    ["len-unset", "${#UNSET}"],
    ["len-digit-name", "${#1}", { "1": "abc" }],
    // Replace and trim edges.
    ["replace-all-overlap", "${NUM//1/11}"],
    ["replace-same", "${VAR/l/l}"],
    ["replace-delimiter-run", "${VAR/l//L}"],
    ["replace-with-colon", "${PATHS//:/ }"],
    ["replace-slash-escaped-pattern", "${PATHS//\\/usr/X}"],
    ["replace-prefix-miss", "${VAR/#x/y}"],
    ["replace-suffix-miss", "${VAR/%x/y}"],
    ["replace-braces-in-value", "${VAR/h/{}"],
    ["trim-class-negated", "${VAR#[^h]}"],
    ["trim-class-range", "${VAR##[a-h]*}"],
    ["trim-bad-class", "${VAR#[}"],
    ["trim-bad-class-2", "${VAR#[a-}"],
    ["trim-escaped-star", "${VAR#\\*}"],
    ["trim-trailing-backslash", "${VAR#h\\}"],
    ["trim-star-only", "${VAR#*}"],
    ["trim-star-only-longest", "${VAR##*}"],
    ["trim-suffix-star-only", "${VAR%*}"],
    ["trim-slash-star", "${SLASHES#*/}"],
    ["trim-slash-star-longest", "${SLASHES##*/}"],
    ["trim-suffix-slash", "${SLASHES%/*}"],
    ["trim-suffix-slash-longest", "${SLASHES%%/*}"],
    ["trim-question-slash", "${SLASHES#?/}"],
    ["trim-three-hashes", "${VAR###}"],
    ["trim-suffix-class", "${FILE%[.]gz}"],
    ["trim-suffix-reversed-class", "${FILE%.[a-z]z}"],
    ["trim-unicode", "${UNI#h?}"],
    ["trim-unicode-suffix", "${UNI%?d}"],
];

/** Inputs that are not UTF-8. */
const BINARY: ReadonlyArray<readonly [string, Buffer, Readonly<Record<string, string>>?]> = [
    ["invalid-utf8-text", Buffer.from([0x61, 0xff, 0x62, 0x24, 0x7b, 0x56, 0x41, 0x52, 0x7d])],
    ["invalid-utf8-in-default", Buffer.concat([Buffer.from("${UNSET:-"), Buffer.from([0xc3]), Buffer.from("}")])],
    ["invalid-utf8-truncated", Buffer.from([0xe2, 0x82])],
];

export function envsubstCases(): EnvsubstCase[] {
    const out: EnvsubstCase[] = [];
    OPERATORS.forEach((op, i) => {
        for (const v of VARIABLES) {
            out.push({ id: `op${String(i).padStart(2, "0")}-${v}:${op.replace(/X/g, v)}`, input: op.replace(/X/g, v), env: ENV });
        }
    });
    for (const [id, input, env] of SPECIAL) {
        out.push({ id, input, env: env ?? ENV });
    }
    for (const [id, bytes, env] of BINARY) {
        out.push({ id, input: "", inputBase64: bytes.toString("base64"), env: env ?? ENV });
    }
    return out;
}

export const STACKS_DIR = path.join(__dirname, "..", "fixtures", "stacks");

/** The variables the stack cases run with. */
export const STACK_ENV: Readonly<Record<string, string>> = { TAG: "1.2.3", FN_REGISTRY: "ghcr.io/example-no", FN_LOG_LEVEL: "debug" };

export function stackCases(): StackCase[] {
    return fs
        .readdirSync(STACKS_DIR)
        .filter((f) => f.endsWith(".yml"))
        .sort()
        .map((f) => ({ id: f, text: fs.readFileSync(path.join(STACKS_DIR, f), "utf8"), env: STACK_ENV }));
}

export function envFileCases(): EnvFileCase[] {
    return [
        { id: "plain", text: "environment:\n  LOG_LEVEL: info\n  TTL: 60\n" },
        { id: "lexical", text: "environment:\n  A: 1.0\n  B: 0x10\n  C: ~\n  D: yes\n  E: '007'\n" },
        { id: "bare-map", text: "LOG_LEVEL: info\n" },
        { id: "empty", text: "" },
        { id: "not-substituted", text: "environment:\n  URL: https://${HOST}/x\n" },
        { id: "nested-value", text: "environment:\n  A:\n    b: c\n" },
        { id: "list", text: "- a\n- b\n" },
        { id: "anchor", text: "x: &v shared\nenvironment:\n  A: *v\n" },
    ];
}

if (require.main === module) {
    process.stdout.write(`${JSON.stringify({ envsubst: envsubstCases(), stacks: stackCases(), envFiles: envFileCases() })}\n`);
}
