import { Location } from "../shared/labels";
import { renderScript, shellQuote } from "../shared/script";
import { SovereignVolume, VOLUME_MODE } from "./volumes";

/** Marker before the JSON report of the volume step. */
export const VOLUMES_REPORT_MARKER = "SOVEREIGN_FAAS_VOLUMES ";

/**
 * Renders the volume step: each directory created, owned and mode 0700, idempotently; symlink
 * tricks refused (the resolved path must be the configured one, under a sovereign root);
 * encryption (dm-crypt/LUKS) and NVMe reported per directory, and enforced where required.
 */
export function renderVolumeScript(volumes: readonly SovereignVolume[], location: Location, sovereignRoots: readonly string[]): string {
    const rows = [...volumes]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((v) => `  ${shellQuote(v.name)} ${shellQuote(v.hostPath)} ${v.owner} ${v.requireEncryption ? 1 : 0}`)
        .join(" \\\n");
    const body = `roots=(${sovereignRoots.map(shellQuote).join(" ")})
report=""
failures=()

under_root() {
  local p="$1" r
  for r in "\${roots[@]}"; do
    case "$p" in "$r"/*) return 0 ;; esac
  done
  return 1
}

# Whether the block device behind a path is dm-crypt (LUKS) and whether it is NVMe.
device_facts() {
  local source chain
  source="$(findmnt -no SOURCE --target "$1" 2>/dev/null | head -n1)"
  chain="$(lsblk -s -no NAME,TYPE "$source" 2>/dev/null || true)"
  encrypted=false
  nvme=false
  if printf '%s\\n' "$chain" | awk '{print $NF}' | grep -qx crypt; then encrypted=true; fi
  if printf '%s\\n' "$chain" | grep -q nvme; then nvme=true; fi
}

ensure_volume() {
  local name="$1" dir="$2" owner="$3" require_enc="$4" resolved
  if ! under_root "$dir"; then
    failures+=("$name: $dir is not under a sovereign root (\${roots[*]})")
    return 0
  fi
  if [ -L "$dir" ]; then
    failures+=("$name: $dir is a symbolic link; sovereign data must be a real directory")
    return 0
  fi
  if [ -e "$dir" ] && [ ! -d "$dir" ]; then
    failures+=("$name: $dir exists and is not a directory")
    return 0
  fi
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    changed "created $dir"
  fi
  resolved="$(realpath -e "$dir")"
  if [ "$resolved" != "$dir" ] || ! under_root "$resolved"; then
    failures+=("$name: $dir resolves to $resolved through a symbolic link; refusing to use it")
    return 0
  fi
  if [ "$(stat -c %u "$dir")" != "$owner" ]; then
    chown "$owner:$owner" "$dir"
    changed "owner of $dir set to $owner"
  fi
  if [ "$(stat -c %a "$dir")" != "${VOLUME_MODE}" ]; then
    chmod ${VOLUME_MODE} "$dir"
    changed "mode of $dir set to ${VOLUME_MODE}"
  fi
  device_facts "$dir"
  if [ "$require_enc" = 1 ] && [ "$encrypted" != true ]; then
    failures+=("$name: $dir is not on an encrypted (dm-crypt/LUKS) device, and requireEncryption is set")
  fi
  report="\${report:+$report,}{\\"encrypted\\":$encrypted,\\"name\\":\\"$name\\",\\"nvme\\":$nvme,\\"path\\":\\"$dir\\"}"
}

# Each volume: name, path, owner uid, require encryption (1/0); passed as arguments, never re-parsed.
set -- \\
${rows}
while [ "$#" -gt 0 ]; do ensure_volume "$1" "$2" "$3" "$4"; shift 4; done

if [ "\${#failures[@]}" -gt 0 ]; then
  for f in "\${failures[@]}"; do printf '[sovereign-faas:volumes] ERROR: volume %s\\n' "$f" >&2; done
  fail "\${#failures[@]} sovereign volume(s) refused; no workload will mount them"
fi
printf '${VOLUMES_REPORT_MARKER}[%s]\\n' "$report"`;
    return renderScript({ step: "volumes", location, body });
}
