/**
 * Registry evidence for addresses: which country the Regional Internet Registries list an IP
 * address or range as registered in, offline, from the dataset an npm package ships.
 *
 * The dataset is @ip-location-db/asn-country 2.3.2026061719 (pinned exactly): the five RIRs'
 * delegated statistics merged by ASN, sorted, without overlaps and without special-purpose
 * ranges (checked when it was chosen; the lookups below still classify special-purpose
 * addresses first, with ipaddr.js, and never look them up). The package's own `license` field
 * says CC0-1.0, but its data is the NRO's, under CC BY 4.0: "give attribution to nro.net for
 * the data" (the package's NRO_LICENSE). Its version carries the data's date (2.3.YYYYMMDDHH).
 * Upstream stopped publishing to npm after this build (the package README's notice); a newer
 * dataset means changing the pin and the date here together.
 *
 * Registration is not geolocation: it says where the holder of the block registered it, which is
 * what a jurisdiction question asks. A block with no row is public space no registry lists here:
 * no evidence, and the rules fail closed on it.
 */
import * as fs from "fs";
import * as path from "path";

import * as ipaddr from "ipaddr.js";

export const REGISTRY_DATASET = {
    package: "@ip-location-db/asn-country",
    version: "2.3.2026061719",
    /** From the version: 2026-06-17, 19h UTC. */
    date: "2026-06-17",
    licence: "CC BY 4.0, data by the Number Resource Organization (nro.net)",
} as const;

/** How the dataset is named in messages: package, version and data date. */
export const DATASET_LABEL = `${REGISTRY_DATASET.package}@${REGISTRY_DATASET.version} (RIR registrations as of ${REGISTRY_DATASET.date})`;

interface Table {
    readonly starts: bigint[];
    readonly ends: bigint[];
    readonly countries: string[];
}

let tables: { v4: Table; v6: Table } | undefined;

function loadTable(file: string): Table {
    const text = fs.readFileSync(file, "utf8");
    const starts: bigint[] = [];
    const ends: bigint[] = [];
    const countries: string[] = [];
    for (const line of text.split("\n")) {
        const [a, b, cc] = line.split(",");
        if (cc === undefined) {
            continue;
        }
        starts.push(BigInt(a));
        ends.push(BigInt(b));
        countries.push(cc.trim());
    }
    return { starts, ends, countries };
}

/** The dataset's tables, read once (the package resolves from the pack's or the library's node_modules). */
function registry(): { v4: Table; v6: Table } {
    if (tables === undefined) {
        const dir = path.dirname(require.resolve(`${REGISTRY_DATASET.package}/package.json`));
        tables = { v4: loadTable(path.join(dir, "asn-country-ipv4-num.csv")), v6: loadTable(path.join(dir, "asn-country-ipv6-num.csv")) };
    }
    return tables;
}

/** One stretch of a range, and what the registry says of it. */
export interface RangeEvidence {
    /** First and last address of the stretch, as text. */
    readonly first: string;
    readonly last: string;
    /** The registered country (ISO 3166-1 alpha-2), or "unregistered". */
    readonly country: string;
}

/** What the registry says of an address or CIDR. */
export type Evidence =
    /** Special-purpose space (private, loopback, link-local, documentation, ...): no country by design. */
    | { readonly kind: "special"; readonly range: string }
    /** Public space, stretch by stretch. */
    | { readonly kind: "registered"; readonly stretches: readonly RangeEvidence[] };

/**
 * ipaddr.js range names that are no public internet (IANA special-purpose registries: not
 * globally reachable). `reserved` holds the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24, 2001:db8::/32) and 240.0.0.0/4.
 */
const SPECIAL_RANGES: ReadonlySet<string> = new Set([
    "unspecified",
    "broadcast",
    "multicast",
    "linkLocal",
    "loopback",
    "carrierGradeNat",
    "private",
    "reserved",
    "uniqueLocal",
    "ipv4Mapped",
    "deprecatedSiteLocal",
    "discard",
    "rfc6145",
    "benchmarking",
    "deprecatedOrchid",
    "segmentRouting",
]);

function toBig(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
    return addr.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function fromBig(n: bigint, v6: boolean): string {
    const bytes: number[] = [];
    for (let i = 0; i < (v6 ? 16 : 4); i++) {
        bytes.unshift(Number(n & 0xffn));
        n >>= 8n;
    }
    return ipaddr.fromByteArray(bytes).toString();
}

/** Parses an address or CIDR (host bits allowed) into its first and last address; undefined when it is neither. */
export function parseRange(text: string): { first: bigint; last: bigint; v6: boolean; network: ipaddr.IPv4 | ipaddr.IPv6; prefix: number } | undefined {
    try {
        const [addr, prefix] = text.includes("/") ? ipaddr.parseCIDR(text) : (() => {
            const a = ipaddr.parse(text);
            return [a, a.kind() === "ipv4" ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number];
        })();
        const v6 = addr.kind() === "ipv6";
        const bits = v6 ? 128 : 32;
        const size = 1n << BigInt(bits - prefix);
        const first = (toBig(addr) / size) * size;
        const network = ipaddr.fromByteArray(
            Array.from({ length: bits / 8 }, (_, i) => Number((first >> BigInt((bits / 8 - 1 - i) * 8)) & 0xffn)),
        );
        return { first, last: first + size - 1n, v6, network, prefix };
    } catch {
        return undefined;
    }
}

/** The first index whose start is > n, minus one: the row that could hold n. */
function rowAtOrBefore(t: Table, n: bigint): number {
    let lo = 0;
    let hi = t.starts.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (t.starts[mid] <= n) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo - 1;
}

/** How many stretches one range may be split into before the answer is summarised (a /8 can hold thousands). */
export const MAX_STRETCHES = 64;

/**
 * What the registry says of an address or CIDR. A special-purpose range is "special" as a whole
 * when its network address is (a CIDR that reaches past special space into public space is judged
 * stretch by stretch, special parts included as "unregistered" only when public).
 */
export function registryEvidence(text: string): Evidence | undefined {
    const r = parseRange(text);
    if (r === undefined) {
        return undefined;
    }
    const rangeName = r.network.range();
    // The range is special when its network address is, and the block does not reach beyond it:
    // ipaddr's range names are CIDRs, so a block no larger than the special one it starts in is inside.
    if (SPECIAL_RANGES.has(rangeName) && specialPrefix(r.network) <= r.prefix) {
        return { kind: "special", range: rangeName };
    }
    const t = r.v6 ? registry().v6 : registry().v4;
    const stretches: RangeEvidence[] = [];
    let at = r.first;
    let i = rowAtOrBefore(t, at);
    while (at <= r.last && stretches.length < MAX_STRETCHES) {
        if (i >= 0 && i < t.starts.length && t.starts[i] <= at && at <= t.ends[i]) {
            const end = t.ends[i] < r.last ? t.ends[i] : r.last;
            pushStretch(stretches, at, end, t.countries[i], r.v6);
            at = end + 1n;
            i += 1;
        } else {
            const next = i + 1 < t.starts.length ? t.starts[i + 1] : undefined;
            const end = next !== undefined && next - 1n < r.last ? next - 1n : r.last;
            pushStretch(stretches, at, end, "unregistered", r.v6);
            at = end + 1n;
            i += 1;
        }
    }
    if (at <= r.last) {
        pushStretch(stretches, at, r.last, "unregistered (not read: more than 64 stretches)", r.v6);
    }
    return { kind: "registered", stretches };
}

function pushStretch(out: RangeEvidence[], first: bigint, last: bigint, country: string, v6: boolean): void {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.country === country) {
        out[out.length - 1] = { ...prev, last: fromBig(last, v6) };
        return;
    }
    out.push({ first: fromBig(first, v6), last: fromBig(last, v6), country });
}

/**
 * The special-purpose CIDRs of a family (SPECIAL_RANGES), from ipaddr.js's own table
 * (lib/ipaddr.js: IPv4/IPv6.prototype.SpecialRanges, not in its type declarations).
 */
export function specialCidrs(kind: "ipv4" | "ipv6"): Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> {
    const protos = { ipv4: ipaddr.IPv4.prototype, ipv6: ipaddr.IPv6.prototype } as unknown as Record<string, { SpecialRanges: unknown }>;
    const ranges = protos[kind].SpecialRanges as Record<string, Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> | [ipaddr.IPv4 | ipaddr.IPv6, number]>;
    return Object.entries(ranges)
        .filter(([name]) => SPECIAL_RANGES.has(name))
        .flatMap(([, list]) => (Array.isArray(list[0]) ? list : [list]) as Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>);
}

/** The prefix length of the special range an address falls in (the smallest listed CIDR holding it). */
function specialPrefix(addr: ipaddr.IPv4 | ipaddr.IPv6): number {
    const holding = specialCidrs(addr.kind()).filter(([net, prefix]) => net.kind() === addr.kind() && (addr as ipaddr.IPv4).match(net as ipaddr.IPv4, prefix));
    return holding.length > 0 ? Math.min(...holding.map(([, prefix]) => prefix)) : addr.kind() === "ipv4" ? 32 : 128;
}

/** One line of evidence: "registered in NO (RIR)" or the stretches. */
export function describeEvidence(e: Evidence): string {
    if (e.kind === "special") {
        return `special-purpose address space (${e.range}): not on the public internet, no country by design`;
    }
    return e.stretches.map((s) => (s.first === s.last ? `${s.first}: ${s.country}` : `${s.first}-${s.last}: ${s.country}`)).join("; ");
}

/**
 * The stretches of a range that are not registered in an allowed country (unregistered public
 * space included: no evidence is no pass). Empty for special-purpose space.
 */
export function foreignStretches(e: Evidence, allowedCountries: readonly string[]): RangeEvidence[] {
    return e.kind === "special" ? [] : e.stretches.filter((s) => !allowedCountries.includes(s.country));
}
