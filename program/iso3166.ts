/**
 * ISO 3166 codes the config is checked against. Countries: the full ISO 3166-1 alpha-2 list.
 * Subdivisions: the Nordic countries, where our users' hosts are; other countries' codes are
 * checked for shape only.
 */

export const ISO_3166_1_ALPHA2: ReadonlySet<string> = new Set(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
        "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
        "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
        "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
        "MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
        "UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
    ).split(" "),
);

/**
 * ISO 3166-2 subdivisions of the Nordic countries. Norway lists the counties in force since
 * 2024 and, still accepted, the 2020-2023 ones (NO-30 Viken, NO-38 Vestfold og Telemark,
 * NO-54 Troms og Finnmark), since hosting contracts still name them.
 */
export const NORDIC_SUBDIVISIONS: Readonly<Record<string, readonly string[]>> = {
    NO: ["NO-03", "NO-11", "NO-15", "NO-18", "NO-21", "NO-22", "NO-30", "NO-31", "NO-32", "NO-33", "NO-34", "NO-38", "NO-39", "NO-40", "NO-42", "NO-46", "NO-50", "NO-54", "NO-55", "NO-56"],
    SE: ["SE-AB", "SE-AC", "SE-BD", "SE-C", "SE-D", "SE-E", "SE-F", "SE-G", "SE-H", "SE-I", "SE-K", "SE-M", "SE-N", "SE-O", "SE-S", "SE-T", "SE-U", "SE-W", "SE-X", "SE-Y", "SE-Z"],
    DK: ["DK-81", "DK-82", "DK-83", "DK-84", "DK-85"],
    FI: ["FI-01", "FI-02", "FI-03", "FI-04", "FI-05", "FI-06", "FI-07", "FI-08", "FI-09", "FI-10", "FI-11", "FI-12", "FI-13", "FI-14", "FI-15", "FI-16", "FI-17", "FI-18", "FI-19"],
    IS: ["IS-1", "IS-2", "IS-3", "IS-4", "IS-5", "IS-6", "IS-7", "IS-8"],
};

/** True when the code is a known subdivision, or its country is one we do not list. */
export function isKnownSubdivision(code: string): boolean {
    const country = code.slice(0, 2);
    const known = NORDIC_SUBDIVISIONS[country];
    return known === undefined || known.includes(code);
}
