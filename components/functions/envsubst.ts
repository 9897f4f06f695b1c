/**
 * faas-cli's environment substitution, run over the whole stack.yml before it is parsed:
 * `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` and `${VAR=default}` (unset),
 * `${VAR:=default}` (unset or empty). An unset variable without a default becomes "".
 */

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}/g;

export function envsubst(text: string, env: Readonly<Record<string, string | undefined>>): string {
    return text.replace(PATTERN, (_match, name: string, op: string | undefined, def: string | undefined) => {
        const value = env[name];
        if (op === undefined) {
            return value ?? "";
        }
        const emptyCounts = op.startsWith(":");
        const useDefault = value === undefined || (emptyCounts && value === "");
        return useDefault ? (def ?? "") : value;
    });
}
