/**
 * Network endpoints named in a text value, found the way real clients parse them, and judged
 * against the pack's settings. Pure: no DNS, no I/O, never throws.
 *
 * It replaces regexes that an attacker got past with IPv4 number forms (`http://0xC0A80101/`),
 * percent-encoded and full-width dots (`s3%2eamazonaws%2ecom`, `s3。amazonaws。com`),
 * userinfo (`https://allowed.no@evil.com/`), nested schemes (`jdbc:postgresql://`), lists and
 * DSNs. A text is read in two passes, and what both find is reported in order of appearance:
 *
 * 1. URLs: every `scheme://` (and `https:evil.com`, `https:\\evil.com`, which WHATWG reads as
 *    the same). The authority's host list is parsed with the WHATWG `URL` as if the scheme were
 *    `http`, whatever it is, so that IDNA, percent-decoding and IPv4 number forms apply to
 *    `postgres://` as to `https://`. Where parsers disagree, every reading is reported (see
 *    {@link endpointsIn}).
 * 2. Everything else is cut into tokens (whitespace, quotes, brackets, `,;|=&` ...), and each
 *    token is read as `user@host`, `host:port`, `[v6]:port`, an IP literal or a bare name.
 * 3. Both passes again over the text with one level of escapes undone (`%XX`, `\uXXXX`, `\xXX`,
 *    `\n`, `\/`): JSON and YAML strings and query parameters hide hosts that way
 *    (`s3\u002eamazonaws\u002ecom`, `?next=https%3A%2F%2Fevil.com`).
 *
 * A bare name counts only when the Public Suffix List (tldts) lists its suffix, or its suffix is
 * one of {@link NON_PUBLIC_SUFFIXES}: every delegated top-level domain is in the list, so a name
 * with an unlisted suffix (`orders.created`, `nats.openfaas`) cannot resolve in public DNS and
 * cannot carry data abroad on its own; it can only resolve inside the cluster or through a local
 * resolver. URLs, `host:port` and IP literals are hosts whatever their suffix.
 */

import * as ipaddr from "ipaddr.js";
import { parse as parseDomain } from "tldts";

import { DATASET_LABEL, foreignStretches, registryEvidence } from "./registry";
import { PackConfig } from "./types";

/** One network endpoint a text names. */
export interface Endpoint {
    /** The substring of the input it came from, trimmed (at most {@link MAX_RAW_CHARS} of a URL); for messages. */
    readonly raw: string;
    /**
     * Normalised host: lower-case ASCII (punycode for IDN), no leading or trailing dot; IPv4 as a
     * dotted quad; IPv6 compressed (RFC 5952) without brackets or zone; IPv4-mapped IPv6 as IPv4.
     */
    readonly host: string;
    readonly kind: "ip" | "name";
    /** The port the text names, when it names one. */
    readonly port?: number;
    /** The URL scheme, lower-case, when the endpoint came from a URL (the innermost one of `jdbc:postgresql://`). */
    readonly scheme?: string;
}

/** How {@link judgeEndpoint} classifies an endpoint. */
export type EndpointVerdict =
    | { readonly ok: true; readonly why: "in-cluster" | "private-address" | "allowed-domain" | "registered-here" }
    | {
          readonly ok: false;
          readonly why: "foreign-storage" | "outside-allowed-domains" | "public-address";
          /** A message fragment naming the host and the rule: `s3.amazonaws.com is foreign storage (amazonaws.com)`. */
          readonly detail: string;
      };

/**
 * Host candidates longer than this are ignored: a DNS name is at most 253 octets, and even written
 * with every letter as a percent-encoded full-width letter (9 characters each) it stays below.
 */
export const MAX_HOST_CHARS = 4096;

/**
 * {@link endpointsIn} returns at most this many endpoints. A value that names more is not a
 * configuration value; a caller that must be complete should treat a full result as a failure.
 */
export const MAX_ENDPOINTS = 4096;

/** `raw` of a URL endpoint holds at most this many characters of the URL. */
export const MAX_RAW_CHARS = 256;

/** Schemes whose WHATWG host parsing the re-parse as `http` stands for; they may omit `//`. */
export const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "ws", "wss", "ftp"]);

/** Schemes that name a cloud without naming its host: `s3://bucket/key` is a request to Amazon S3. */
export const CLOUD_SCHEMES: Readonly<Record<string, string>> = {
    s3: "s3.amazonaws.com",
    s3a: "s3.amazonaws.com",
    s3n: "s3.amazonaws.com",
    gs: "storage.googleapis.com",
    gcs: "storage.googleapis.com",
};

/**
 * Suffixes the Public Suffix List does not list (or lists without saying what they are) that
 * still mark a bare word as a host name: multicast DNS (`.local`, RFC 6762, which also covers
 * `cluster.local`), ICANN's private-use `.internal`, home networks (`.home.arpa`, RFC 8375),
 * `.localhost` (RFC 6761) and Kubernetes services (`.svc`). Real configuration uses them for
 * real hosts (`db.internal`, `nas.local`), so they are reported; {@link judgeEndpoint} then
 * allows them only when they are in-cluster names. A LAN or corporate resolver can send such a
 * name anywhere, and glibc does not pin `*.localhost` to the loopback, so nobody has checked
 * where the host is.
 */
export const NON_PUBLIC_SUFFIXES: readonly string[] = ["local", "internal", "home.arpa", "localhost", "svc"];

/** `ipaddr.js` `range()` names of addresses that never leave the host, the link or the site. */
export const PRIVATE_RANGES: ReadonlySet<string> = new Set(["private", "loopback", "linkLocal", "uniqueLocal", "carrierGradeNat", "unspecified"]);

/** Longest text tried as a bare IPv6 literal (45 characters, plus a zone). */
const MAX_IPV6_CHARS = 64;
/** Longest authority read with tabs and newlines removed (see {@link readAuthority}). */
const MAX_JOINED_AUTHORITY_CHARS = 2 * MAX_HOST_CHARS;

interface Finding {
    readonly at: number;
    readonly endpoint: Endpoint;
}

/**
 * Every endpoint a text names, de-duplicated by host and port (the first occurrence wins), in
 * order of appearance, at most {@link MAX_ENDPOINTS}. Linear in the length of the text.
 *
 * Where clients disagree about a URL, each reading is reported: `https://evil.com\@allowed.no/`
 * names `evil.com` (WHATWG reads `\` as `/`) and `allowed.no` (RFC 3986 parsers take the host
 * after the last `@`). WHATWG also removes tabs and newlines inside a URL; a host that only
 * appears once they are removed is reported when it is an IP or a public name (so that
 * `https://evil\t.com` names `evil.com`, but a URL at the end of one line does not merge with
 * the next line).
 *
 * Not hosts: single words without a dot; bare names with an unlisted suffix (NATS subjects such
 * as `orders.created`, versions, quantities, durations); paths (`/data/x`, `./run.sh`);
 * `unix(...)` sockets; bare numbers (`3232235777` is an IPv4 address only in a URL or with a
 * port); dotted numbers with fewer than four parts (`1.2.3`) unless a port follows. Known false
 * positives: file names and code whose last word is a top-level domain (`main.py`, `user.name`)
 * and Kubernetes label keys (`kubernetes.io/hostname`): callers skip label-key fields.
 */
export function endpointsIn(text: string): Endpoint[] {
    if (typeof text !== "string" || text === "") {
        return [];
    }
    const found = scanText(text);
    const unescaped = unescapeOnce(text);
    if (unescaped !== undefined) {
        for (const f of scanText(unescaped.text)) {
            found.push({ at: unescaped.origin[f.at], endpoint: f.endpoint });
        }
    }
    return firstOfEach(found);
}

/**
 * The one endpoint a value that holds a host names: a URL, `host`, `host:port`, `[v6]:port`,
 * `user@host` or a bare IP literal, whatever its suffix. Undefined when it names none.
 */
export function endpointOf(text: string): Endpoint | undefined {
    const t = typeof text === "string" ? text.trim() : "";
    if (t === "") {
        return undefined;
    }
    if (t.includes("://")) {
        return endpointsIn(t)[0];
    }
    const authority = t.slice(t.lastIndexOf("@") + 1);
    for (let i = 0; i < authority.length; i += 1) {
        if (endsAuthority(authority.charCodeAt(i)) || authority[i] === "\\" || authority[i] === ",") {
            return undefined;
        }
    }
    return hostPortEndpoint(authority, t, undefined);
}

/**
 * Whether a host is a name inside the cluster: one label (`redis`, `localhost`), `*.svc`,
 * `*.svc.cluster.local`, `*.cluster.local`, or `<service>.<namespace>` of a configured
 * namespace. Decided on the normalised host, so `gateway.openfaas.` and full-width dots count.
 */
export function isInClusterName(host: string, config: PackConfig): boolean {
    const endpoint = endpointOf(host);
    return endpoint !== undefined && endpoint.kind === "name" && inCluster(endpoint.host, config);
}

/**
 * Whether an endpoint (as {@link endpointsIn} gives it) may receive data. IP literals: private,
 * loopback, link-local, unique-local, CGNAT and unspecified addresses pass; other addresses fail
 * (their country is checked elsewhere). Names: foreign storage fails even under an allowed
 * domain; then in-cluster names and names under an allowed egress domain pass. Suffixes match
 * on label boundaries: `evil-amazonaws.com` is not `amazonaws.com`.
 */
export function judgeEndpoint(endpoint: Endpoint, config: PackConfig): EndpointVerdict {
    const { host } = endpoint;
    const allowed = config.allowedEgressDomains.join(", ");
    if (endpoint.kind === "ip") {
        if (isPrivateAddress(host)) {
            return { ok: true, why: "private-address" };
        }
        // A public address passes only with registry evidence of an allowed country (registry.ts).
        const evidence = registryEvidence(host);
        if (evidence !== undefined && evidence.kind === "registered" && foreignStretches(evidence, config.allowedCountries).length === 0) {
            return { ok: true, why: "registered-here" };
        }
        if (evidence?.kind === "special") {
            return { ok: false, why: "public-address", detail: `${host} is a special-purpose (${evidence.range}) address, not a private one, outside the allowed domains (${allowed})` };
        }
        const country = evidence?.kind === "registered" ? evidence.stretches[0]?.country : undefined;
        return {
            ok: false,
            why: "public-address",
            detail: `${host} is a public IP address ${country === undefined || country === "unregistered" ? "with no registry entry" : `registered in ${country}`}, outside ${config.allowedCountries.join(", ")} (${DATASET_LABEL}) and the allowed domains (${allowed})`,
        };
    }
    const foreign = config.foreignStoragePatterns.find((p) => matchesSuffixPattern(host, p));
    if (foreign !== undefined) {
        return { ok: false, why: "foreign-storage", detail: `${host} is foreign storage (${foreign})` };
    }
    if (inCluster(host, config)) {
        return { ok: true, why: "in-cluster" };
    }
    if (config.allowedEgressDomains.some((d) => matchesSuffixPattern(host, d))) {
        return { ok: true, why: "allowed-domain" };
    }
    return { ok: false, why: "outside-allowed-domains", detail: `${host} is outside the allowed domains (${allowed})` };
}

/** Both passes over one text. */
function scanText(text: string): Finding[] {
    const found: Finding[] = [];
    const urlSpans = scanUrls(text, found);
    scanTokens(text, urlSpans, found);
    return found;
}

/** Single-character escapes of JSON and YAML strings that can hide a host or split a list. */
const CHAR_ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "/": "/", "\\": "\\" };

/**
 * The text with one level of escapes undone, and for each of its characters the index in `text`
 * it came from; undefined when there is nothing to undo. Percent-escapes are decoded as UTF-8,
 * a run at a time; a run that is not UTF-8, and any unknown escape, stays as written.
 */
function unescapeOnce(text: string): { text: string; origin: number[] } | undefined {
    if (!text.includes("%") && !text.includes("\\")) {
        return undefined;
    }
    const out: string[] = [];
    const origin: number[] = [];
    const emit = (chars: string, at: number): void => {
        for (let k = 0; k < chars.length; k += 1) {
            out.push(chars[k]);
            origin.push(at);
        }
    };
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (c === "%" && isHexAt(text, i + 1, 2)) {
            let j = i;
            while (text[j] === "%" && isHexAt(text, j + 1, 2)) {
                j += 3;
            }
            emit(decodePercentRun(text.slice(i, j)), i);
            i = j;
        } else if (c === "\\" && text[i + 1] === "u" && isHexAt(text, i + 2, 4)) {
            emit(String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)), i);
            i += 6;
        } else if (c === "\\" && text[i + 1] === "x" && isHexAt(text, i + 2, 2)) {
            emit(String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16)), i);
            i += 4;
        } else if (c === "\\" && i + 1 < text.length && CHAR_ESCAPES[text[i + 1]] !== undefined) {
            emit(CHAR_ESCAPES[text[i + 1]], i);
            i += 2;
        } else {
            emit(c, i);
            i += 1;
        }
    }
    const unescaped = out.join("");
    return unescaped === text ? undefined : { text: unescaped, origin };
}

function decodePercentRun(run: string): string {
    try {
        return decodeURIComponent(run);
    } catch {
        return run;
    }
}

function isHexAt(text: string, at: number, length: number): boolean {
    for (let k = at; k < at + length; k += 1) {
        if (!/[0-9a-f]/i.test(text[k] ?? "")) {
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Pass 1: URLs.

/** Finds URLs; returns the spans (scheme to end of authority) the token pass must skip. */
function scanUrls(text: string, found: Finding[]): Array<readonly [number, number]> {
    const spans: Array<readonly [number, number]> = [];
    let floor = 0;
    let colon = text.indexOf(":");
    while (colon !== -1) {
        const start = schemeStart(text, colon, floor);
        const scheme = text.slice(start, colon).toLowerCase();
        const from = start < colon ? authorityStart(text, colon, SPECIAL_SCHEMES.has(scheme)) : undefined;
        if (from !== undefined) {
            // `https:evil.com` (no slash) is a URL to WHATWG, but `http:80` is more often a port.
            const end = readUrl(text, start, scheme, from, from === colon + 1, found);
            spans.push([start, end]);
            floor = end;
        }
        colon = text.indexOf(":", Math.max(colon + 1, floor));
    }
    return spans;
}

/** Start of the scheme that ends at `colon` (`colon` itself when there is none). */
function schemeStart(text: string, colon: number, floor: number): number {
    let s = colon;
    while (s > floor && isSchemeChar(text.charCodeAt(s - 1))) {
        s -= 1;
    }
    while (s < colon && !isAsciiLetter(text.charCodeAt(s))) {
        s += 1;
    }
    return s;
}

/**
 * Where the authority starts after `scheme:`, or undefined when there is none. Special schemes
 * take any run of `/` and `\` (WHATWG ignores them); others need `//` (or JSON's `\/\/`).
 */
function authorityStart(text: string, colon: number, special: boolean): number | undefined {
    let p = colon + 1;
    if (special) {
        while (p < text.length && (text[p] === "/" || text[p] === "\\")) {
            p += 1;
        }
        return p;
    }
    if (text.startsWith("//", p)) {
        return p + 2;
    }
    if (text.startsWith("\\/\\/", p)) {
        return p + 4;
    }
    return undefined;
}

/** Reads one URL's endpoints; returns the end of its authority. */
function readUrl(text: string, start: number, scheme: string, from: number, loose: boolean, found: Finding[]): number {
    const rfc = readAuthority(text, from, false);
    const raw = rawUrl(text, start, rfc.end);
    const cloud = CLOUD_SCHEMES[scheme];
    if (cloud !== undefined) {
        found.push({ at: start, endpoint: { raw, host: cloud, kind: "name", scheme } });
        return rfc.end;
    }
    const add = (e: Endpoint | undefined): void => {
        if (e !== undefined && (!loose || looseUrlHostCounts(e))) {
            found.push({ at: start, endpoint: e });
        }
    };
    const whatwg = readAuthority(text, from, true);
    const whatwgCounts = whatwg.value !== rfc.value && !(whatwg.joined && whatwg.end - from > MAX_JOINED_AUTHORITY_CHARS);
    if (whatwgCounts && !whatwg.joined) {
        for (const entry of hostEntries(whatwg.value)) {
            add(hostPortEndpoint(entry, raw, scheme));
        }
    }
    for (const entry of hostEntries(rfc.value)) {
        const backslash = entry.lastIndexOf("\\");
        const e = backslash === -1 ? hostPortEndpoint(entry, raw, scheme) : undefined;
        if (e !== undefined) {
            add(e);
        } else {
            // What WHATWG rejects (`evil.com:80:80`, `[evil.com]`) other parsers may take; an RFC 3986
            // client keeps `\` in the host (`a\b.evil.com`): read the rest as a token.
            classifyHostish(entry.slice(backslash + 1), raw, start, found);
        }
    }
    if (whatwgCounts && whatwg.joined) {
        for (const entry of hostEntries(whatwg.value)) {
            const e = hostPortEndpoint(entry, raw, scheme);
            if (e !== undefined && (e.kind === "ip" || isPublicName(e.host))) {
                add(e);
            }
        }
    }
    return rfc.end;
}

/** A number after `http:` without slashes is read as a port or a count, not as an address. */
function looseUrlHostCounts(e: Endpoint): boolean {
    return e.kind === "name" ? e.host.includes(".") : !/^0\./.test(e.host);
}

/**
 * The authority after `from`, up to the first character that ends it. In the WHATWG reading, `\`
 * ends it too, and tabs and newlines are removed rather than ending it (`joined` says whether
 * any were). A `,` ends it when a new URL follows (`https://a,https://b`); otherwise it
 * separates hosts (`mongodb://h1:27017,h2:27017/db`).
 */
function readAuthority(text: string, from: number, whatwg: boolean): { value: string; end: number; joined: boolean } {
    let value = "";
    let segment = from;
    let joined = false;
    let j = from;
    for (; j < text.length; j += 1) {
        const c = text.charCodeAt(j);
        if (whatwg && (c === 0x09 || c === 0x0a || c === 0x0d)) {
            value += text.slice(segment, j);
            segment = j + 1;
            joined = true;
            continue;
        }
        if (endsAuthority(c) || (c === 0x2c && startsUrl(text, j + 1))) {
            break;
        }
        // Past a removed tab or newline only the rest of a host matters; the token pass reads
        // any `user@host` or `host:port` that follows.
        if (whatwg && (c === 0x5c || (joined && (c === 0x3a || c === 0x40 || j - from > MAX_JOINED_AUTHORITY_CHARS)))) {
            break;
        }
    }
    return { value: value + text.slice(segment, j), end: j, joined };
}

/** Whether a `scheme://` (or a special `scheme:`) starts at `i`. */
function startsUrl(text: string, i: number): boolean {
    let j = i;
    while (j < text.length && isSchemeChar(text.charCodeAt(j))) {
        j += 1;
    }
    if (j === i || !isAsciiLetter(text.charCodeAt(i)) || text[j] !== ":") {
        return false;
    }
    return text.startsWith("//", j + 1) || SPECIAL_SCHEMES.has(text.slice(i, j).toLowerCase());
}

/** The hosts of an authority, once each: after the last `@` (userinfo), split on `,`. */
function hostEntries(authority: string): string[] {
    const entries = authority.slice(authority.lastIndexOf("@") + 1).split(",");
    return [...new Set(entries)].filter((e) => e !== "");
}

/** The URL as written, for messages: from the scheme to the next space or quote, bounded. */
function rawUrl(text: string, start: number, authorityEnd: number): string {
    let end = authorityEnd;
    const limit = Math.min(text.length, start + MAX_RAW_CHARS);
    while (end < limit && !endsRawUrl(text.charCodeAt(end))) {
        end += 1;
    }
    return text.slice(start, Math.min(end, limit)).trim();
}

// ---------------------------------------------------------------------------------------------
// Pass 2: tokens.

/** Cuts the text outside the URL spans into tokens and classifies each. */
function scanTokens(text: string, skip: ReadonlyArray<readonly [number, number]>, found: Finding[]): void {
    let next = 0;
    let tokenStart = -1;
    const flush = (end: number): void => {
        if (tokenStart !== -1) {
            classifyToken(text.slice(tokenStart, end), tokenStart, found);
            tokenStart = -1;
        }
    };
    for (let i = 0; i < text.length; i += 1) {
        if (next < skip.length && i === skip[next][0]) {
            flush(i);
            i = skip[next][1] - 1;
            next += 1;
        } else if (separatesTokens(text.charCodeAt(i))) {
            flush(i);
        } else if (tokenStart === -1) {
            tokenStart = i;
        }
    }
    flush(text.length);
}

/**
 * One token. `user@host` names the host (e-mail, DSN): with several `@`, what follows each one
 * is read, since `u:p/w@host` and `ops@host/x@y` both occur. Then `//host` and `\\host` (UNC)
 * name a host; other pieces starting with `/`, `\` or `~` are paths; `host/path` names the host.
 */
function classifyToken(token: string, at: number, found: Finding[]): void {
    const query = token.indexOf("?");
    const pieces = (query === -1 ? token : token.slice(0, query)).split("@");
    for (const piece of pieces.length === 1 ? pieces : pieces.slice(1)) {
        const s = piece.startsWith("//") || piece.startsWith("\\\\") ? piece.slice(2) : piece;
        if (s !== "" && s[0] !== "/" && s[0] !== "\\" && s[0] !== "~") {
            const slash = firstIndexOf(s, "/", "\\");
            classifyHostish(slash === -1 ? s : s.slice(0, slash), token.trim(), at, found);
        }
    }
}

/** A host-ish piece: `[v6]:port`, a bare IPv6 literal, `host:port`, or `a:b` pieces. */
function classifyHostish(s: string, raw: string, at: number, found: Finding[]): void {
    if (s === "") {
        return;
    }
    if (s.startsWith("[")) {
        const close = s.indexOf("]");
        const port = close === -1 ? undefined : portAfter(s.slice(close + 1));
        const v6 = close === -1 ? undefined : ipv6Endpoint(s.slice(1, close), raw, port);
        if (v6 !== undefined) {
            found.push({ at, endpoint: v6 });
            return;
        }
    }
    if (s.includes("[") || s.includes("]")) {
        for (const piece of s.split("[").flatMap((p) => p.split("]"))) {
            classifyHostish(piece, raw, at, found);
        }
        return;
    }
    const parts = s.split(":");
    if (parts.length > 2 && s.length <= MAX_IPV6_CHARS) {
        const v6 = ipv6Endpoint(s, raw, undefined);
        if (v6 !== undefined) {
            found.push({ at, endpoint: v6 });
            return;
        }
    }
    for (let i = 0; i < parts.length; i += 1) {
        if (parts[i] === "") {
            continue;
        }
        const port = i + 1 < parts.length ? portNumber(parts[i + 1]) : undefined;
        const e = port === undefined ? bareHost(parts[i], raw) : hostWithPort(parts[i], port, raw);
        if (e !== undefined) {
            found.push({ at, endpoint: e });
        }
        if (port !== undefined) {
            i += 1;
        }
    }
}

/**
 * `host:port` outside a URL: any name (a single label must start with a letter, as Kubernetes
 * service names do, so that `2024-01-01T12:30` is not one), or an IPv4 address in any form
 * WHATWG reads, a lone number only above 0xFFFFFF (so `12:30` is a time).
 */
function hostWithPort(host: string, port: number, raw: string): Endpoint | undefined {
    const e = hostPortEndpoint(host, raw, undefined, port);
    if (e === undefined) {
        return undefined;
    }
    if (e.kind === "ip") {
        return ipv4Counts(host, e.host, true) ? e : undefined;
    }
    return /^[a-z0-9._-]+$/.test(e.host) && (e.host.includes(".") || isAsciiLetter(e.host.charCodeAt(0))) ? e : undefined;
}

/**
 * A bare word: a name with a listed or non-public suffix, or an IPv4 address written with four
 * parts (`192.0.2.1`, `0300.0250.1.1`) or as one hex number above 0xFFFFFF (`0xC0A80101`).
 */
function bareHost(word: string, raw: string): Endpoint | undefined {
    const w = trimDots(word);
    if (!/[.%\u0080-\uffff]/.test(w) && !/^0x/i.test(w)) {
        return undefined;
    }
    const e = hostPortEndpoint(w, raw, undefined);
    if (e === undefined) {
        return undefined;
    }
    if (e.kind === "ip") {
        return ipv4Counts(w, e.host, false) ? e : undefined;
    }
    return isPublicName(e.host) ? e : undefined;
}

/** Whether an IPv4 address read from `source` outside a URL is meant as one (see callers). */
function ipv4Counts(source: string, address: string, hasPort: boolean): boolean {
    if (address.includes(":")) {
        return true;
    }
    const parts = dottedParts(source);
    if (parts === 4) {
        return true;
    }
    if (parts > 1) {
        return hasPort;
    }
    // One number: above 0xFFFFFF exactly when the first octet is not 0.
    return !address.startsWith("0.") && (hasPort || /^0x/i.test(source));
}

/** Number of dot-separated parts, counting the dots WHATWG maps to `.` and ignoring trailing ones. */
function dottedParts(source: string): number {
    const s = trimDots(source.replace(/%2e/gi, ".").replace(/[\u3002\uff0e\uff61]/g, "."));
    let parts = 1;
    for (let i = 0; i < s.length; i += 1) {
        if (s[i] === ".") {
            parts += 1;
        }
    }
    return parts;
}

// ---------------------------------------------------------------------------------------------
// Parsing one host.

/**
 * Parses `host[:port]`, `[v6][:port]` or a bare IPv6 literal with the WHATWG URL parser, as the
 * host of an `http` URL: lower-case, IDNA (punycode, full-width letters and dots), percent-decoding,
 * IPv4 number forms. A port in the text wins over `port`. Undefined when it is no host.
 */
function hostPortEndpoint(entry: string, raw: string, scheme: string | undefined, port?: number): Endpoint | undefined {
    if (entry === "" || entry.length > MAX_HOST_CHARS) {
        return undefined;
    }
    let host = entry;
    let p = port;
    if (entry.startsWith("[")) {
        const close = entry.indexOf("]");
        if (close !== -1) {
            host = entry.slice(0, close + 1);
            p = portAfter(entry.slice(close + 1)) ?? p;
        }
    } else if (entry.indexOf(":") !== entry.lastIndexOf(":")) {
        return entry.length <= MAX_IPV6_CHARS ? ipv6Endpoint(entry, raw, p, scheme) : undefined;
    } else if (entry.includes(":")) {
        host = entry.slice(0, entry.indexOf(":"));
        p = portNumber(entry.slice(entry.indexOf(":") + 1)) ?? p;
    }
    const url = URL.parse(`http://${host}/`);
    if (url === null || url.hostname === "") {
        return undefined;
    }
    if (url.hostname.startsWith("[")) {
        return ipv6Endpoint(url.hostname.slice(1, -1), raw, p, scheme);
    }
    // WHATWG serialises every IPv4 host as a dotted quad, and fails any other name ending in a number.
    if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(url.hostname)) {
        return makeEndpoint(raw, url.hostname, "ip", p, scheme);
    }
    const name = trimDots(url.hostname);
    return name === "" ? undefined : makeEndpoint(raw, name, "name", p, scheme);
}

/** An IPv6 literal (zone dropped); IPv4-mapped addresses become their IPv4 address. */
function ipv6Endpoint(text: string, raw: string, port: number | undefined, scheme?: string): Endpoint | undefined {
    const literal = text.split("%")[0];
    if (literal.length > MAX_IPV6_CHARS || !/^[0-9a-f:.]+$/i.test(literal)) {
        return undefined;
    }
    // WHATWG validates without throwing (ipaddr.js throws, which is slow on every non-address).
    const url = URL.parse(`http://[${literal}]/`);
    if (url === null) {
        return undefined;
    }
    return makeEndpoint(raw, ipaddr.process(url.hostname.slice(1, -1)).toString(), "ip", port, scheme);
}

function makeEndpoint(raw: string, host: string, kind: "ip" | "name", port: number | undefined, scheme: string | undefined): Endpoint {
    return { raw, host, kind, ...(port === undefined ? {} : { port }), ...(scheme === undefined ? {} : { scheme }) };
}

/** The port of `:1234`, when the text after a host is that. */
function portAfter(rest: string): number | undefined {
    return rest.startsWith(":") ? portNumber(rest.slice(1)) : undefined;
}

/** A port number (1 to 5 digits, at most 65535), or undefined. */
function portNumber(text: string): number | undefined {
    if (!/^[0-9]{1,5}$/.test(text)) {
        return undefined;
    }
    const n = Number(text);
    return n <= 65535 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------
// Classifying a host.

/** Whether a name has a dot and a suffix the Public Suffix List lists, or a non-public one. */
function isPublicName(host: string): boolean {
    if (!host.includes(".")) {
        return false;
    }
    if (NON_PUBLIC_SUFFIXES.some((s) => host.endsWith(`.${s}`))) {
        return true;
    }
    // tldts reports the list's default `*` rule (no listed suffix) as isIcann = isPrivate = false.
    const r = parseDomain(host, { allowPrivateDomains: true, extractHostname: false });
    return r.isIcann === true || r.isPrivate === true;
}

function inCluster(host: string, config: PackConfig): boolean {
    if (!host.includes(".") || host === "localhost") {
        return true;
    }
    if (host.endsWith(".svc") || host.endsWith(".svc.cluster.local") || host.endsWith(".cluster.local")) {
        return true;
    }
    const labels = host.split(".");
    return labels.length === 2 && config.clusterNamespaces.some((ns) => ns.toLowerCase() === labels[1]);
}

function isPrivateAddress(host: string): boolean {
    return ipaddr.isValid(host) && PRIVATE_RANGES.has(ipaddr.process(host).range());
}

/** Whether a normalised name is the domain of a suffix pattern (`.no`, `*.amazonaws.com`, `amazonaws.com.`) or under it. */
function matchesSuffixPattern(host: string, pattern: string): boolean {
    const suffix = normaliseSuffix(pattern);
    return suffix !== "" && (host === suffix || host.endsWith(`.${suffix}`));
}

function normaliseSuffix(pattern: string): string {
    const bare = trimDots(pattern.trim().replace(/^\*/, ""));
    if (/^[a-z0-9.-]*$/.test(bare)) {
        return bare;
    }
    const url = URL.parse(`http://${bare}/`);
    return url === null ? bare.toLowerCase() : trimDots(url.hostname);
}

// ---------------------------------------------------------------------------------------------
// Characters.

function trimDots(s: string): string {
    let start = 0;
    let end = s.length;
    while (start < end && s[start] === ".") {
        start += 1;
    }
    while (end > start && s[end - 1] === ".") {
        end -= 1;
    }
    return s.slice(start, end);
}

function firstIndexOf(s: string, a: string, b: string): number {
    const i = s.indexOf(a);
    const j = s.indexOf(b);
    return i === -1 ? j : j === -1 ? i : Math.min(i, j);
}

function isAsciiLetter(c: number): boolean {
    return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isSchemeChar(c: number): boolean {
    return isAsciiLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** Unicode White_Space, and the controls (C0, DEL, C1) no host may hold. */
function isSpace(c: number): boolean {
    return (
        c <= 0x20 ||
        (c >= 0x7f && c <= 0xa0) ||
        c === 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) ||
        c === 0x2028 ||
        c === 0x2029 ||
        c === 0x202f ||
        c === 0x205f ||
        c === 0x3000
    );
}

/** Characters that end an authority: they cannot be in a host, or are syntax around one. */
const AUTHORITY_ENDS = new Set([..."/?#\"'`<>(){}|^;=&"].map((c) => c.charCodeAt(0)));
/** Characters that separate tokens outside URLs. */
const TOKEN_SEPARATORS = new Set([..."\"'`<>(){}|^;=&,!*$#"].map((c) => c.charCodeAt(0)));

/** Whether a character ends a URL quoted in `raw`: a space or a quote. */
function endsRawUrl(c: number): boolean {
    return isSpace(c) || c === 0x22 || c === 0x27 || c === 0x60 || c === 0x3c || c === 0x3e;
}

function endsAuthority(c: number): boolean {
    return isSpace(c) || AUTHORITY_ENDS.has(c);
}

function separatesTokens(c: number): boolean {
    return isSpace(c) || TOKEN_SEPARATORS.has(c);
}

// ---------------------------------------------------------------------------------------------

/** In order of appearance, the first finding of each host and port, at most MAX_ENDPOINTS. */
function firstOfEach(found: Finding[]): Endpoint[] {
    const sorted = [...found].sort((a, b) => a.at - b.at);
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const { endpoint: e } of sorted) {
        const key = `${e.host} ${e.port ?? ""}`;
        if (!seen.has(key)) {
            seen.add(key);
            out.push(e);
            if (out.length === MAX_ENDPOINTS) {
                break;
            }
        }
    }
    return out;
}
