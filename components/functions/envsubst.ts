/**
 * An exact port of github.com/drone/envsubst v1.0.3, the substitution faas-cli 0.18.12 runs over
 * the whole stack.yml (comments included) before it parses the YAML (go-sdk v0.2.22
 * stack/stack.go `substituteEnvironment`). Parse, then execute with a lookup function, as upstream
 * does; `tests/functions/envsubst-oracle.test.ts` checks this port against the Go code itself.
 *
 * What upstream does (and so what this does):
 * - Only `${` opens a substitution: a bare `$VAR` is literal text.
 * - Escapes in text: `$$` -> `$` (so `$${X}` is the literal `${X}`), `\\` -> `\`, `\/` -> `/`.
 * - After the name: `:` default or substring, `=` default, `,` `^` case, `/` replace, `#` `%`
 *   remove a prefix or suffix (a glob); anything else must be `}` ("missing closing brace"), so
 *   `${VAR-d}`, `${VAR+d}` and `${VAR?d}` are errors.
 * - `=`, `:=`, `:-`, `:?` and `:+` all give the default when the value is empty or unset.
 * - Lengths and substrings count UTF-8 bytes, as Go strings do; a NUL byte ends the text.
 *
 * Go strings are bytes; this port works on "byte strings" (one char per byte, 0-255) so that
 * lengths, substrings and escapes behave byte for byte as upstream. Two limits are our own, not
 * upstream's: the nesting depth and the number of substitutions (a recursive parser must not
 * overflow its stack), and the size of the output.
 */

/** How deep `${A:-${B:-...}}` may nest. Upstream has no limit; a stack file never needs more. */
export const ENVSUBST_MAX_NESTING = 64;
/** How many `${...}` one text may hold (bounds the parse's memory). */
export const ENVSUBST_MAX_SUBSTITUTIONS = 100_000;
/** The largest result one substitution run may produce. @default 8 MiB (see MAX_STACK_FILE_BYTES) */
export const ENVSUBST_DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/** Upstream's parse errors, word for word (drone/envsubst parse/parse.go). */
export const ENVSUBST_ERRORS = {
    badSubstitution: "bad substitution",
    missingClosingBrace: "missing closing brace",
    variableName: "unable to parse variable name",
    funcSubstitution: "unable to parse substitution within function",
    defaultFunction: "unable to parse default function",
} as const;

export type EnvsubstErrorKind =
    /** Upstream refuses the text (its parse error is `reason`). */
    | "syntax"
    /** Upstream would run, but crashes (a Go panic) on it. */
    | "crash"
    /** One of our own limits. */
    | "limit";

/** Where in the text: 1-based line and column (in characters), and the byte offset. */
export interface EnvsubstPosition {
    readonly line: number;
    readonly column: number;
    readonly offset: number;
}

/** A `${NAME...}` in the text. */
export interface EnvsubstReference extends EnvsubstPosition {
    readonly name: string;
}

/**
 * Why a text cannot be substituted. The message holds the reason and the position, never the
 * text itself (a stack file may hold a secret).
 */
export class EnvsubstError extends Error {
    constructor(
        readonly kind: EnvsubstErrorKind,
        readonly reason: string,
        readonly position: EnvsubstPosition | undefined,
    ) {
        super(position ? `line ${position.line}, column ${position.column}: ${reason}` : reason);
        this.name = "EnvsubstError";
    }
}

interface TextNode {
    readonly kind: "text";
    readonly value: string;
}

interface FuncNode {
    readonly kind: "func";
    /** The variable's name (a byte string). */
    param: string;
    /** The function: "" (plain), ":-", "=", ":", "#", "//", "^^", ... */
    name: string;
    readonly args: EnvsubstNode[];
    /** Byte offset of the `${`. */
    readonly offset: number;
}

type EnvsubstNode = TextNode | FuncNode;

/** A parsed text. */
export interface EnvsubstTemplate {
    readonly nodes: readonly EnvsubstNode[];
    /** The source as a byte string (for positions). */
    readonly source: string;
}

// ---------------------------------------------------------------------------------------------
// UTF-8 as Go reads it (unicode/utf8): an invalid byte decodes as U+FFFD with width 1.

const RUNE_ERROR = 0xfffd;
const EOF = 0;

function decodeRune(s: string, i: number): [number, number] {
    const n = s.length - i;
    if (n <= 0) {
        return [RUNE_ERROR, 0];
    }
    const b0 = s.charCodeAt(i);
    if (b0 < 0x80) {
        return [b0, 1];
    }
    if (b0 < 0xc2 || b0 > 0xf4) {
        return [RUNE_ERROR, 1];
    }
    const size = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
    if (n < size) {
        // Go checks the bytes that are there before giving up on a short sequence; either way
        // the result is (RuneError, 1).
        return [RUNE_ERROR, 1];
    }
    const lo = b0 === 0xe0 ? 0xa0 : b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xed ? 0x9f : b0 === 0xf4 ? 0x8f : 0xbf;
    const b1 = s.charCodeAt(i + 1);
    if (b1 < lo || b1 > hi) {
        return [RUNE_ERROR, 1];
    }
    if (size === 2) {
        return [((b0 & 0x1f) << 6) | (b1 & 0x3f), 2];
    }
    const b2 = s.charCodeAt(i + 2);
    if (b2 < 0x80 || b2 > 0xbf) {
        return [RUNE_ERROR, 1];
    }
    if (size === 3) {
        return [((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f), 3];
    }
    const b3 = s.charCodeAt(i + 3);
    if (b3 < 0x80 || b3 > 0xbf) {
        return [RUNE_ERROR, 1];
    }
    return [((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f), 4];
}

function encodeRune(r: number): string {
    if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) {
        r = RUNE_ERROR;
    }
    if (r < 0x80) {
        return String.fromCharCode(r);
    }
    if (r < 0x800) {
        return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f));
    }
    if (r < 0x10000) {
        return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
    }
    return String.fromCharCode(0xf0 | (r >> 18), 0x80 | ((r >> 12) & 0x3f), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f));
}

function runes(s: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < s.length; ) {
        const [r, w] = decodeRune(s, i);
        out.push(r);
        i += w;
    }
    return out;
}

/** A JS string as the byte string of its UTF-8 encoding. */
export function toByteString(text: string | Uint8Array): string {
    return (typeof text === "string" ? Buffer.from(text, "utf8") : Buffer.from(text)).toString("latin1");
}

function fromByteString(bytes: string): Buffer {
    return Buffer.from(bytes, "latin1");
}

// Go's unicode.IsLetter / IsDigit (category L, and Nd).
const IDENT_RUNE = /^[\p{L}\p{Nd}_]$/u;

// Go's unicode.ToUpper / ToLower use Unicode's simple (one to one) case mappings; JavaScript
// has only the full mappings. Where the full mapping yields more than one character, the simple
// one is the character itself, except for these.
const SIMPLE_LOWER: Readonly<Record<number, number>> = { 0x130: 0x69 };
const SIMPLE_UPPER: Readonly<Record<number, number>> = (() => {
    const m: Record<number, number> = { 0x1fb3: 0x1fbc, 0x1fc3: 0x1fcc, 0x1ff3: 0x1ffc };
    for (const base of [0x1f80, 0x1f90, 0x1fa0]) {
        for (let i = 0; i < 8; i++) {
            m[base + i] = base + 8 + i;
        }
    }
    return m;
})();

function simpleCase(r: number, upper: boolean): number {
    if (r < 0x80) {
        if (upper) {
            return r >= 0x61 && r <= 0x7a ? r - 0x20 : r;
        }
        return r >= 0x41 && r <= 0x5a ? r + 0x20 : r;
    }
    if (r === RUNE_ERROR || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) {
        return r;
    }
    const table = upper ? SIMPLE_UPPER : SIMPLE_LOWER;
    if (table[r] !== undefined) {
        return table[r];
    }
    const c = String.fromCodePoint(r);
    const mapped = upper ? c.toUpperCase() : c.toLowerCase();
    const cps = [...mapped];
    return cps.length === 1 ? (cps[0].codePointAt(0) as number) : r;
}

function mapRunes(s: string, upper: boolean): string {
    let out = "";
    for (let i = 0; i < s.length; ) {
        const [r, w] = decodeRune(s, i);
        out += encodeRune(simpleCase(r, upper));
        i += w;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The scanner (parse/scan.go).

const SCAN_IDENT = 1;
const SCAN_LBRACK = 2;
const SCAN_RBRACK = 4;
const SCAN_ESCAPE = 8;

const enum Token {
    Illegal,
    Eof,
    Ident,
    Lbrack,
    Rbrack,
}

type Accept = (r: number, i: number) => boolean;

const ch = (c: string): number => c.charCodeAt(0);
const acceptRune: Accept = () => true;
const acceptIdent: Accept = (r) => IDENT_RUNE.test(String.fromCodePoint(r));
const acceptColon: Accept = (r) => r === ch(":");
const acceptOneHash: Accept = (r, i) => r === ch("#") && i === 1;
const acceptNotClosing: Accept = (r) => r !== ch("}");
const acceptHashFunc: Accept = (r, i) => r === ch("#") && i < 3;
const acceptPercentFunc: Accept = (r, i) => r === ch("%") && i < 3;
const acceptDefaultFunc: Accept = (r, i) => (i === 1 && r === ch(":")) || (i === 2 && (r === ch("=") || r === ch("-") || r === ch("?") || r === ch("+")));
const acceptReplaceFunc: Accept = (r, i) => (i === 1 && r === ch("/")) || (i === 2 && (r === ch("/") || r === ch("#") || r === ch("%")));
const acceptOneEqual: Accept = (r, i) => i === 1 && r === ch("=");
const acceptOneColon: Accept = (r, i) => i === 1 && r === ch(":");
const rejectColonClose: Accept = (r) => r !== ch(":") && r !== ch("}");
const acceptSlash: Accept = (r) => r === ch("/");
const acceptNotSlash: Accept = (r) => r !== ch("/");
const acceptCasingFunc: Accept = (r, i) => (r === ch(",") || r === ch("^")) && i < 3;

/**
 * Upstream's scanner removes an escape character from its buffer (`skip`) and reads on. Here the
 * buffer stays as it is: the removed offsets of the current token are remembered, the position
 * steps over the kept character, and a token's text leaves the removed ones out. Positions
 * therefore stay offsets into the original text.
 */
class Scanner {
    pos = 0;
    start = 0;
    width = 0;
    mode = 0;
    accept: Accept = acceptRune;
    private removed: number[] = [];

    constructor(readonly buf: string) {}

    read(): number {
        if (this.pos >= this.buf.length) {
            this.width = 0;
            return EOF;
        }
        const [r, w] = decodeRune(this.buf, this.pos);
        this.width = w;
        this.pos += w;
        return r;
    }

    unread(): void {
        this.pos -= this.width;
    }

    private skip(): void {
        // Drop the escape character (just read, one byte) and keep the one after it.
        this.removed.push(this.pos - 1);
        this.pos += 1;
    }

    peek(): number {
        const r = this.read();
        this.unread();
        return r;
    }

    /** Upstream's `pos - start`, counted in its (shortened) buffer. */
    private index(): number {
        return this.pos - this.start - this.removed.length;
    }

    string(): string {
        if (this.removed.length === 0) {
            return this.buf.slice(this.start, this.pos);
        }
        let out = "";
        let from = this.start;
        for (const r of this.removed) {
            out += this.buf.slice(from, r);
            from = r + 1;
        }
        return out + this.buf.slice(from, this.pos);
    }

    scan(): Token {
        this.start = this.pos;
        this.removed = [];
        const r = this.read();
        if (r === EOF) {
            return Token.Eof;
        }
        if (this.scanLbrack(r)) {
            return Token.Lbrack;
        }
        if (this.scanRbrack(r)) {
            return Token.Rbrack;
        }
        if (this.scanIdent(r)) {
            return Token.Ident;
        }
        return Token.Illegal;
    }

    private scanIdent(first: number): boolean {
        if ((this.mode & SCAN_IDENT) === 0) {
            return false;
        }
        if (this.scanEscaped(first)) {
            this.skip();
        } else if (!this.accept(first, this.index())) {
            return false;
        }
        for (;;) {
            const r = this.read();
            if (r === EOF) {
                this.unread();
                break;
            }
            if (this.scanLbrack(r)) {
                this.unread();
                this.unread();
                break;
            }
            if (this.scanEscaped(r)) {
                this.skip();
                continue;
            }
            if (!this.accept(r, this.index())) {
                this.unread();
                break;
            }
        }
        return true;
    }

    private scanLbrack(r: number): boolean {
        if ((this.mode & SCAN_LBRACK) === 0) {
            return false;
        }
        if (r === ch("$")) {
            if (this.read() === ch("{")) {
                return true;
            }
            this.unread();
        }
        return false;
    }

    private scanRbrack(r: number): boolean {
        return (this.mode & SCAN_RBRACK) !== 0 && r === ch("}");
    }

    private scanEscaped(r: number): boolean {
        if ((this.mode & SCAN_ESCAPE) === 0) {
            return false;
        }
        if (r === ch("$") && this.peek() === ch("$")) {
            return true;
        }
        if (r !== ch("\\")) {
            return false;
        }
        const next = this.peek();
        return next === ch("/") || next === ch("\\");
    }
}

// ---------------------------------------------------------------------------------------------
// The parser (parse/parse.go). parseAny is a loop here (upstream recurses once per token).

class SyntaxFailure {
    constructor(
        readonly kind: EnvsubstErrorKind,
        readonly reason: string,
    ) {}
}

class Parser {
    private readonly s: Scanner;
    /** Offsets of the `${` still open: on an error, the innermost is where it is reported. */
    readonly open: number[] = [];
    private funcs = 0;

    constructor(buf: string) {
        this.s = new Scanner(buf);
    }

    private fail(reason: string, kind: EnvsubstErrorKind = "syntax"): never {
        throw new SyntaxFailure(kind, reason);
    }

    parseAny(): EnvsubstNode[] {
        const nodes: EnvsubstNode[] = [];
        for (;;) {
            this.s.accept = acceptRune;
            this.s.mode = SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE;
            switch (this.s.scan()) {
                case Token.Ident:
                    nodes.push({ kind: "text", value: this.s.string() });
                    break;
                case Token.Eof:
                    return nodes;
                case Token.Lbrack:
                    nodes.push(this.parseFunc());
                    break;
                default:
                    this.fail(ENVSUBST_ERRORS.badSubstitution);
            }
        }
    }

    private parseFunc(): FuncNode {
        this.open.push(this.s.start);
        if (this.open.length > ENVSUBST_MAX_NESTING) {
            this.fail(`substitutions nested more than ${ENVSUBST_MAX_NESTING} deep`, "limit");
        }
        if (++this.funcs > ENVSUBST_MAX_SUBSTITUTIONS) {
            this.fail(`more than ${ENVSUBST_MAX_SUBSTITUTIONS} substitutions`, "limit");
        }
        const node = this.parseFuncBody(this.s.start);
        this.open.pop();
        return node;
    }

    private parseFuncBody(offset: number): FuncNode {
        const s = this.s;
        const node: FuncNode = { kind: "func", param: "", name: "", args: [], offset };
        if (s.peek() === ch("#")) {
            return this.parseLenFunc(node);
        }
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.variableName);
        }
        node.param = s.string();
        switch (s.peek()) {
            case ch(":"):
                return this.parseDefaultOrSubstr(node);
            case ch("="):
                return this.parseDefaultFunc(node);
            case ch(","):
            case ch("^"):
                return this.parseCasingFunc(node);
            case ch("/"):
                return this.parseReplaceFunc(node);
            case ch("#"):
                return this.parseRemoveFunc(node, acceptHashFunc);
            case ch("%"):
                return this.parseRemoveFunc(node, acceptPercentFunc);
        }
        s.accept = acceptIdent;
        s.mode = SCAN_RBRACK;
        if (s.scan() !== Token.Rbrack) {
            this.fail(ENVSUBST_ERRORS.missingClosingBrace);
        }
        return node;
    }

    private parseParam(accept: Accept, mode: number): EnvsubstNode {
        const s = this.s;
        s.accept = accept;
        s.mode = mode | SCAN_LBRACK;
        switch (s.scan()) {
            case Token.Lbrack:
                return this.parseFunc();
            case Token.Ident:
            case Token.Rbrack:
                return { kind: "text", value: s.string() };
            default:
                return this.fail(ENVSUBST_ERRORS.funcSubstitution);
        }
    }

    private parseDefaultOrSubstr(node: FuncNode): FuncNode {
        const s = this.s;
        s.read();
        const r = s.peek();
        // Upstream unreads by the width of the peeked character, not of the ':' (kept as is).
        s.unread();
        if (r === ch("=") || r === ch("-") || r === ch("?") || r === ch("+")) {
            return this.parseDefaultFunc(node);
        }
        return this.parseSubstrFunc(node);
    }

    private parseSubstrFunc(node: FuncNode): FuncNode {
        const s = this.s;
        s.accept = acceptOneColon;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.name = s.string();
        node.args.push(this.parseParam(rejectColonClose, SCAN_IDENT));
        s.accept = acceptColon;
        s.mode = SCAN_IDENT | SCAN_RBRACK;
        const t = s.scan();
        if (t === Token.Rbrack) {
            return node;
        }
        if (t !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseRemoveFunc(node: FuncNode, accept: Accept): FuncNode {
        const s = this.s;
        s.accept = accept;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseReplaceFunc(node: FuncNode): FuncNode {
        const s = this.s;
        s.accept = acceptReplaceFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotSlash, SCAN_IDENT | SCAN_ESCAPE));
        s.accept = acceptSlash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        if (s.peek() === ch("}")) {
            this.consumeRbrack();
            return node;
        }
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT | SCAN_ESCAPE));
        this.consumeRbrack();
        return node;
    }

    private parseDefaultFunc(node: FuncNode): FuncNode {
        const s = this.s;
        s.accept = s.peek() === ch("=") ? acceptOneEqual : acceptDefaultFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.defaultFunction);
        }
        node.name = s.string();
        for (;;) {
            if (s.peek() === ch("}")) {
                this.consumeRbrack();
                return node;
            }
            node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        }
    }

    private parseCasingFunc(node: FuncNode): FuncNode {
        const s = this.s;
        s.accept = acceptCasingFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.name = s.string();
        this.consumeRbrack();
        return node;
    }

    private parseLenFunc(node: FuncNode): FuncNode {
        const s = this.s;
        s.accept = acceptOneHash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.name = s.string();
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
        node.param = s.string();
        this.consumeRbrack();
        return node;
    }

    private consumeRbrack(): void {
        this.s.mode = SCAN_RBRACK;
        if (this.s.scan() !== Token.Rbrack) {
            this.fail(ENVSUBST_ERRORS.badSubstitution);
        }
    }
}

/** The 1-based line and column (in characters) of a byte offset. */
export function positionOf(source: string, offset: number): EnvsubstPosition {
    let line = 1;
    let lineStart = 0;
    for (let i = source.indexOf("\n"); i !== -1 && i < offset; i = source.indexOf("\n", i + 1)) {
        line++;
        lineStart = i + 1;
    }
    let column = 1;
    for (let i = lineStart; i < offset; ) {
        i += Math.max(1, decodeRune(source, i)[1]);
        column++;
    }
    return { line, column, offset };
}

/** Parses a text (a JS string, or raw bytes). Throws an EnvsubstError where upstream's Parse fails. */
export function parseEnvsubst(text: string | Uint8Array): EnvsubstTemplate {
    const source = toByteString(text);
    const parser = new Parser(source);
    try {
        return { nodes: parser.parseAny(), source };
    } catch (err) {
        if (err instanceof SyntaxFailure) {
            const at = parser.open[parser.open.length - 1];
            throw new EnvsubstError(err.kind, err.reason, at === undefined ? undefined : positionOf(source, at));
        }
        throw err;
    }
}

/** Every `${NAME...}` of a template, nested ones included, in text order. */
export function envsubstReferences(t: EnvsubstTemplate): EnvsubstReference[] {
    const out: { name: string; offset: number }[] = [];
    const walk = (nodes: readonly EnvsubstNode[]): void => {
        for (const n of nodes) {
            if (n.kind === "func") {
                out.push({ name: fromByteString(n.param).toString("utf8"), offset: n.offset });
                walk(n.args);
            }
        }
    };
    walk(t.nodes);
    out.sort((a, b) => a.offset - b.offset);
    // One pass over the text for all positions (a long line with many references stays linear).
    const result: EnvsubstReference[] = [];
    let line = 1;
    let cursor = 0;
    let column = 1;
    let nextNewline = t.source.indexOf("\n");
    for (const r of out) {
        while (nextNewline !== -1 && nextNewline < r.offset) {
            line++;
            cursor = nextNewline + 1;
            column = 1;
            nextNewline = t.source.indexOf("\n", cursor);
        }
        while (cursor < r.offset) {
            cursor += Math.max(1, decodeRune(t.source, cursor)[1]);
            column++;
        }
        result.push({ name: r.name, line, column, offset: r.offset });
    }
    return result;
}

// ---------------------------------------------------------------------------------------------
// The functions (funcs.go), on byte strings.

class ExecFailure {
    constructor(
        readonly kind: EnvsubstErrorKind,
        readonly reason: string,
    ) {}
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi on a 64-bit platform. */
function atoi(s: string): bigint | undefined {
    if (!/^[+-]?[0-9]+$/.test(s)) {
        return undefined;
    }
    const n = BigInt(s);
    return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

function wrapInt64(n: bigint): bigint {
    return BigInt.asIntN(64, n);
}

function toSubstr(s: string, args: string[]): string {
    if (args.length === 0) {
        return s;
    }
    let pos = atoi(args[0]);
    if (pos === undefined) {
        return s;
    }
    const len = BigInt(s.length);
    if (pos < 0n) {
        pos = len + pos;
        if (pos < 0n) {
            pos = 0n;
        }
    }
    if (args.length === 1) {
        return pos < len ? s.slice(Number(pos)) : "";
    }
    const length = atoi(args[1]);
    if (length === undefined) {
        return s;
    }
    const end = wrapInt64(pos + length);
    if (end >= len) {
        return pos < len ? s.slice(Number(pos)) : "";
    }
    if (end < pos) {
        // Go slices s[pos:end] and panics: faas-cli itself would crash here.
        throw new ExecFailure("crash", `a substring with a negative length (Go panics: slice bounds out of range [${pos}:${end}])`);
    }
    return s.slice(Number(pos), Number(end));
}

function runeCount(s: string): number {
    let n = 0;
    for (let i = 0; i < s.length; n++) {
        i += decodeRune(s, i)[1];
    }
    return n;
}

function count(s: string, sub: string): number {
    if (sub.length === 0) {
        return runeCount(s) + 1;
    }
    let n = 0;
    for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) {
        n++;
    }
    return n;
}

/** strings.Replace, refusing a result larger than `limit` bytes before building it. */
function replace(s: string, old: string, replacement: string, n: number, limit: number): string {
    if (old === replacement || n === 0) {
        return s;
    }
    const m = count(s, old);
    if (m === 0) {
        return s;
    }
    if (n < 0 || m < n) {
        n = m;
    }
    if (s.length + n * (replacement.length - old.length) > limit) {
        throw new ExecFailure("limit", `a replacement would produce more than ${limit} bytes`);
    }
    let out = "";
    let start = 0;
    for (let i = 0; i < n; i++) {
        let j = start;
        if (old.length === 0) {
            if (i > 0) {
                j += decodeRune(s, start)[1];
            }
        } else {
            j = s.indexOf(old, start);
        }
        out += s.slice(start, j) + replacement;
        start = j + old.length;
    }
    return out + s.slice(start);
}

function reverse(s: string): string {
    return runes(s).reverse().map(encodeRune).join("");
}

// path/match.go (upstream's copy of Go's path.Match: '*' and '?' also match '/').
class BadPattern {}

function scanChunk(pattern: string): [boolean, string, string] {
    let star = false;
    while (pattern.length > 0 && pattern[0] === "*") {
        pattern = pattern.slice(1);
        star = true;
    }
    let inrange = false;
    let i: number;
    scan: for (i = 0; i < pattern.length; i++) {
        switch (pattern[i]) {
            case "\\":
                if (i + 1 < pattern.length) {
                    i++;
                }
                break;
            case "[":
                inrange = true;
                break;
            case "]":
                inrange = false;
                break;
            case "*":
                if (!inrange) {
                    break scan;
                }
        }
    }
    return [star, pattern.slice(0, i), pattern.slice(i)];
}

function getEsc(chunk: string): [number, string] {
    if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") {
        throw new BadPattern();
    }
    if (chunk[0] === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) {
            throw new BadPattern();
        }
    }
    const [r, n] = decodeRune(chunk, 0);
    const rest = chunk.slice(n);
    if ((r === RUNE_ERROR && n === 1) || rest.length === 0) {
        throw new BadPattern();
    }
    return [r, rest];
}

/** Returns the rest of s after the chunk, or undefined when it does not match. Throws BadPattern. */
function matchChunk(chunk: string, s: string): string | undefined {
    while (chunk.length > 0) {
        if (s.length === 0) {
            return undefined;
        }
        switch (chunk[0]) {
            case "[": {
                const [r, n] = decodeRune(s, 0);
                s = s.slice(n);
                chunk = chunk.slice(1);
                let notNegated = true;
                if (chunk.length > 0 && chunk[0] === "^") {
                    notNegated = false;
                    chunk = chunk.slice(1);
                }
                let match = false;
                let nrange = 0;
                for (;;) {
                    if (chunk.length > 0 && chunk[0] === "]" && nrange > 0) {
                        chunk = chunk.slice(1);
                        break;
                    }
                    let lo: number;
                    [lo, chunk] = getEsc(chunk);
                    let hi = lo;
                    if (chunk[0] === "-") {
                        [hi, chunk] = getEsc(chunk.slice(1));
                    }
                    if (lo <= r && r <= hi) {
                        match = true;
                    }
                    nrange++;
                }
                if (match !== notNegated) {
                    return undefined;
                }
                break;
            }
            case "?": {
                s = s.slice(decodeRune(s, 0)[1]);
                chunk = chunk.slice(1);
                break;
            }
            case "\\":
                chunk = chunk.slice(1);
                if (chunk.length === 0) {
                    throw new BadPattern();
                }
                if (chunk[0] !== s[0]) {
                    return undefined;
                }
                s = s.slice(1);
                chunk = chunk.slice(1);
                break;
            default:
                if (chunk[0] !== s[0]) {
                    return undefined;
                }
                s = s.slice(1);
                chunk = chunk.slice(1);
        }
    }
    return s;
}

/** Returns whether name matches; throws BadPattern like upstream returns ErrBadPattern. */
function match(pattern: string, name: string): boolean {
    outer: while (pattern.length > 0) {
        let star: boolean;
        let chunk: string;
        [star, chunk, pattern] = scanChunk(pattern);
        if (star && chunk === "") {
            return true;
        }
        let rest: string | undefined;
        let err: BadPattern | undefined;
        try {
            rest = matchChunk(chunk, name);
        } catch (e) {
            if (!(e instanceof BadPattern)) {
                throw e;
            }
            err = e;
        }
        if (rest !== undefined && (rest.length === 0 || pattern.length > 0)) {
            name = rest;
            continue;
        }
        if (err !== undefined) {
            throw err;
        }
        if (star) {
            for (let i = 0; i < name.length; i++) {
                // A bad pattern throws, as upstream returns its error here.
                const t = matchChunk(chunk, name.slice(i + 1));
                if (t !== undefined) {
                    if (pattern.length === 0 && t.length > 0) {
                        continue;
                    }
                    name = t;
                    continue outer;
                }
            }
        }
        return false;
    }
    return name.length === 0;
}

function tryMatch(pattern: string, name: string): boolean | undefined {
    try {
        return match(pattern, name);
    } catch (e) {
        if (e instanceof BadPattern) {
            return undefined;
        }
        throw e;
    }
}

function trimShortest(s: string, arg: string): string {
    let shortest = "";
    for (let i = 0; i < s.length; i++) {
        const m = tryMatch(arg, s.slice(0, s.length - i));
        if (m === undefined) {
            return s;
        }
        if (m) {
            shortest = s.slice(0, s.length - i);
        }
    }
    return shortest !== "" ? s.slice(shortest.length) : s;
}

function trimLongest(s: string, arg: string): string {
    for (let i = 0; i < s.length; i++) {
        const m = tryMatch(arg, s.slice(0, s.length - i));
        if (m === undefined) {
            return s;
        }
        if (m) {
            return s.slice(s.length - i);
        }
    }
    return s;
}

type SubstituteFunc = (s: string, args: string[], limit: number) => string;

const toDefault: SubstituteFunc = (s, args) => (s.length === 0 && args.length > 0 ? args.join("") : s);

const FUNCS: Readonly<Record<string, SubstituteFunc>> = {
    ",": (s) => (s === "" ? s : encodeRune(simpleCase(decodeRune(s, 0)[0], false)) + s.slice(decodeRune(s, 0)[1])),
    ",,": (s) => mapRunes(s, false),
    "^": (s) => (s === "" ? s : encodeRune(simpleCase(decodeRune(s, 0)[0], true)) + s.slice(decodeRune(s, 0)[1])),
    "^^": (s) => mapRunes(s, true),
    "#": (s, args) => (args.length === 0 ? String(s.length) : trimShortest(s, args[0])),
    "##": (s, args) => (args.length !== 0 ? trimLongest(s, args[0]) : s),
    "%": (s, args) => (args.length !== 0 ? reverse(trimShortest(reverse(s), reverse(args[0]))) : s),
    "%%": (s, args) => (args.length !== 0 ? reverse(trimLongest(reverse(s), reverse(args[0]))) : s),
    ":": (s, args) => toSubstr(s, args),
    "/#": (s, args, limit) => (args.length === 2 && s.startsWith(args[0]) ? replace(s, args[0], args[1], 1, limit) : s),
    "/%": (s, args) => (args.length === 2 && s.endsWith(args[0]) ? s.slice(0, s.length - args[0].length) + args[1] : s),
    "/": (s, args, limit) => (args.length === 0 ? s : replace(s, args[0], args[1] ?? "", 1, limit)),
    "//": (s, args, limit) => (args.length === 0 ? s : replace(s, args[0], args[1] ?? "", -1, limit)),
};

/** upstream's lookupFunc: every other name (=, :=, :-, :?, :+, "", ",^", ...) is toDefault. */
function lookupFunc(name: string): SubstituteFunc {
    return Object.prototype.hasOwnProperty.call(FUNCS, name) ? FUNCS[name] : toDefault;
}

export interface EnvsubstExecuteOptions {
    /** The largest result allowed. @default ENVSUBST_DEFAULT_MAX_OUTPUT_BYTES */
    readonly maxBytes?: number;
}

/**
 * Runs a template (upstream's Template.Execute): every function's arguments first, then the
 * variable's value from `lookup` (upstream's mapping: return "" for an unset variable). Returns the
 * result's bytes: a substring can cut a multi-byte character, as upstream's can.
 */
export function executeEnvsubst(t: EnvsubstTemplate, lookup: (name: string) => string, options: EnvsubstExecuteOptions = {}): Buffer {
    const limit = options.maxBytes ?? ENVSUBST_DEFAULT_MAX_OUTPUT_BYTES;
    const evalNode = (n: EnvsubstNode): string => {
        if (n.kind === "text") {
            return n.value;
        }
        const args = n.args.map(evalNode);
        const value = toByteString(lookup(fromByteString(n.param).toString("utf8")));
        const out = lookupFunc(n.name)(value, args, limit);
        if (out.length > limit) {
            throw new ExecFailure("limit", `the result would be more than ${limit} bytes`);
        }
        return out;
    };
    const parts: string[] = [];
    let size = 0;
    try {
        for (const n of t.nodes) {
            const part = evalNode(n);
            size += part.length;
            if (size > limit) {
                throw new ExecFailure("limit", `the result would be more than ${limit} bytes`);
            }
            parts.push(part);
        }
    } catch (err) {
        if (err instanceof ExecFailure) {
            throw new EnvsubstError(err.kind, err.reason, undefined);
        }
        throw err;
    }
    return fromByteString(parts.join(""));
}

/**
 * Substitutes `env` into `text` as faas-cli does (an unset variable reads as ""). Throws an
 * EnvsubstError where faas-cli would fail. Bytes that are not UTF-8 (a substring that cut a
 * character) come back as U+FFFD.
 */
export function envsubst(text: string, env: Readonly<Record<string, string | undefined>>): string {
    const t = parseEnvsubst(text);
    return executeEnvsubst(t, (name) => (Object.prototype.hasOwnProperty.call(env, name) ? (env[name] ?? "") : "")).toString("utf8");
}
