/**
 * Backups of the cluster state and the sovereign volumes: restic (Debian 12's 0.14.0) to an
 * SFTP host or an S3-compatible endpoint, run by a systemd timer. Pure renderers; the component
 * (backups.ts) installs what they render in one idempotent remote step.
 *
 * What we verified (the research notes name each source):
 * - K3s's default single-node datastore is SQLite through kine, opened in WAL mode
 *   (`state.db?_journal=WAL...`, k3s-io/kine pkg/drivers/sqlite/sqlite.go): copying the files is
 *   unsafe, so the backup takes `VACUUM INTO`, a consistent snapshot in one file (sqlite.org,
 *   "VACUUM INTO"), checks it with `PRAGMA integrity_check`, and keeps `server/token` with it, as
 *   docs.k3s.io/datastore/backup-restore requires ("you must also back up the server token").
 *   `etcd-snapshot` and `etcd-s3` apply only to etcd.
 * - restic 0.14.0 knows exit codes 0, 1 and 3 only (3: some files could not be read); it has no
 *   `--retry-lock`, and its `restore` cannot safely write over an existing tree, so a restore goes
 *   into a staging directory and is swapped in. `init` refuses to overwrite a repository, so the
 *   backup initialises only when `cat config` says there is none.
 * - Secrets reach restic as files only (RESTIC_PASSWORD_FILE, AWS_SHARED_CREDENTIALS_FILE, `ssh
 *   -i <file>` inside `-o sftp.command=...`), from systemd credentials (LoadCredential=,
 *   systemd 252), never a command line.
 */
import { Location } from "../shared/labels";
import { heredoc, renderScript, shellQuote } from "../shared/script";

export const BACKUP_CONF_DIR = "/etc/sovereign-faas/backup";
export const BACKUP_LIB_DIR = "/usr/local/lib/sovereign-faas";
export const BACKUP_STATE_DIR = "/var/lib/sovereign-faas/backup";
export const BACKUP_UNIT = "sovereign-backup.service";
export const BACKUP_TIMER = "sovereign-backup.timer";
export const BACKUP_LOCK = "/run/lock/sovereign-backup.lock";
/** The stamp the policy pack reads the target from (one JSON object, sorted keys). */
export const BACKUP_TARGET_STAMP = "# sovereign-faas-backup-target: ";
/** Where node-exporter's textfile collector reads metrics from, when it is installed. */
export const BACKUP_METRICS_DIR = "/var/lib/prometheus/node-exporter";

export type BackupTarget =
    | {
          readonly kind: "sftp";
          readonly host: string;
          /** @default 22 */
          readonly port?: number;
          readonly user: string;
          /** Absolute path of the repository on the target. */
          readonly path: string;
          /** The target's public host key line (`ssh-ed25519 AAAA...`): pinned, never learned. */
          readonly hostKey: string;
      }
    | {
          readonly kind: "s3";
          /** The endpoint URL, e.g. https://s3.example.no */
          readonly endpoint: string;
          readonly bucket: string;
          /** @default "" */
          readonly prefix?: string;
      };

export interface BackupSettings {
    /** systemd OnCalendar expression. @default "*-*-* 03:15:00" */
    readonly schedule: string;
    readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** The share of pack data `restic check` reads on each run. @default "5%" */
    readonly checkSubset: string;
    readonly target: BackupTarget;
    /** The directories whose content is backed up (the sovereign roots). */
    readonly volumeRoots: readonly string[];
    /** Back up the K3s datastore and token (this stack's K3s). */
    readonly k3s: boolean;
    /** @default "/var/lib/rancher/k3s" */
    readonly k3sDataDir?: string;
    /** The name the snapshots carry as their host. */
    readonly backupHost: string;
}

/** The restic repository string of a target. */
export function repositoryOf(t: BackupTarget): string {
    if (t.kind === "sftp") {
        // The host part is the ssh_config alias: the real host, port, user and pinned key live there.
        return `sftp:sovereign-backup-target:${t.path}`;
    }
    const endpoint = t.endpoint.replace(/\/+$/, "");
    return `s3:${endpoint}/${t.bucket}${t.prefix ? `/${t.prefix.replace(/^\/+|\/+$/g, "")}` : ""}`;
}

/** What the policy pack and the report read: where the backups go. */
export function targetStamp(t: BackupTarget): string {
    const stamp = t.kind === "sftp" ? { host: t.host, kind: "sftp", port: t.port ?? 22 } : { bucket: t.bucket, endpoint: t.endpoint, kind: "s3" };
    return BACKUP_TARGET_STAMP + JSON.stringify(stamp);
}

/** backup.conf: the non-secret settings, sourced by the scripts. Every value is shell-quoted. */
export function renderBackupConf(s: BackupSettings): string {
    const lines = [
        `BACKUP_HOST=${shellQuote(s.backupHost)}`,
        `BACKUP_K3S=${s.k3s ? 1 : 0}`,
        `K3S_DATA_DIR=${shellQuote(s.k3sDataDir ?? "/var/lib/rancher/k3s")}`,
        `VOLUME_ROOTS=${shellQuote(s.volumeRoots.join(" "))}`,
        `KEEP_DAILY=${s.retention.daily}`,
        `KEEP_WEEKLY=${s.retention.weekly}`,
        `KEEP_MONTHLY=${s.retention.monthly}`,
        `CHECK_SUBSET=${shellQuote(s.checkSubset)}`,
        `REPOSITORY_KIND=${s.target.kind}`,
    ];
    return `# sovereign-faas backups (rendered by pulumi up; secrets are systemd credentials, not here)\n${lines.join("\n")}\n`;
}

/** ssh_config for an SFTP target: the pinned key only, batch mode, short timeouts. */
export function renderSshConfig(t: Extract<BackupTarget, { kind: "sftp" }>): string {
    return `Host sovereign-backup-target
  HostName ${t.host}
  Port ${t.port ?? 22}
  User ${t.user}
  IdentitiesOnly yes
  UserKnownHostsFile ${BACKUP_CONF_DIR}/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  BatchMode yes
  ConnectTimeout 15
  ServerAliveInterval 15
  ServerAliveCountMax 4
`;
}

/** known_hosts: the pinned key, for the alias and the real host. */
export function renderKnownHosts(t: Extract<BackupTarget, { kind: "sftp" }>): string {
    const port = t.port ?? 22;
    const name = port === 22 ? t.host : `[${t.host}]:${port}`;
    return `${name} ${t.hostKey}\n`;
}

const RESTIC_ENV = `CONF=${BACKUP_CONF_DIR}
CRED=\${CREDENTIALS_DIRECTORY:-$CONF}
# shellcheck source=/dev/null
. "$CONF/backup.conf"
: "\${BACKUP_HOST:?BACKUP_HOST missing in backup.conf}"
export RESTIC_REPOSITORY_FILE="$CONF/repository"
export RESTIC_PASSWORD_FILE="$CRED/restic-password"
export RESTIC_CACHE_DIR=\${CACHE_DIRECTORY:-/var/cache/sovereign-faas/restic}
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY RESTIC_PASSWORD RESTIC_REPOSITORY
if [ -f "$CRED/s3-credentials" ]; then export AWS_SHARED_CREDENTIALS_FILE="$CRED/s3-credentials"; fi
ropts=()
if [ "$REPOSITORY_KIND" = sftp ]; then
  ropts=(-o "sftp.command=ssh -F $CONF/ssh_config -i $CRED/ssh-key sovereign-backup-target -s sftp")
fi
r() { restic "\${ropts[@]}" "$@"; }`;

/** backup.sh: one run (repository, K3s datastore and token, volumes, retention, check), with a status file and metrics. */
export function renderBackupRunScript(): string {
    return `#!/bin/bash
# sovereign-faas backup run: the K3s SQLite datastore and token, then the sovereign volumes, to one
# restic repository. Secrets come only from files (systemd credentials); none is an argument.
set -Eeuo pipefail
umask 077
STATE=\${STATE_DIRECTORY:-${BACKUP_STATE_DIR}}
${RESTIC_ENV}
mkdir -p "$STATE" "$RESTIC_CACHE_DIR"
step=lock started=$(date +%s) k3s_snap="" vol_snap="" k3s_added=0 vol_added=0 partial=0

field() { sed -n "s/.*\\"$1\\":\\"\\{0,1\\}\\([^,\\"}]*\\).*/\\1/p" "$2" | tail -n1; }

write_status() { # result rc
  local now last_success tmp ok
  now=$(date +%s)
  if [ "$1" = success ]; then echo "$now" >"$STATE/last-success"; ok=1; else ok=0; fi
  last_success=$(cat "$STATE/last-success" 2>/dev/null || echo 0)
  tmp=$(mktemp "$STATE/.status.XXXXXX")
  printf '{"result":"%s","exit_code":%d,"failed_step":"%s","started":%d,"finished":%d,"last_success":%d,"k3s_snapshot":"%s","volumes_snapshot":"%s","k3s_data_added":%s,"volumes_data_added":%s}\\n' \\
    "$1" "$2" "$([ "$1" = success ] || echo "$step")" "$started" "$now" "$last_success" "$k3s_snap" "$vol_snap" "\${k3s_added:-0}" "\${vol_added:-0}" >"$tmp"
  chmod 0644 "$tmp"; mv -f "$tmp" "$STATE/status.json"
  if [ -d ${BACKUP_METRICS_DIR} ]; then
    tmp=$(mktemp ${BACKUP_METRICS_DIR}/.sovereign_backup.XXXXXX)
    {
      echo "# HELP sovereign_backup_last_success_timestamp_seconds End of the last fully successful backup run."
      echo "# TYPE sovereign_backup_last_success_timestamp_seconds gauge"
      echo "sovereign_backup_last_success_timestamp_seconds $last_success"
      echo "# HELP sovereign_backup_last_run_success 1 if the last run succeeded."
      echo "# TYPE sovereign_backup_last_run_success gauge"
      echo "sovereign_backup_last_run_success $ok"
      echo "# HELP sovereign_backup_data_added_bytes Bytes the last run added to the repository."
      echo "# TYPE sovereign_backup_data_added_bytes gauge"
      echo "sovereign_backup_data_added_bytes{set=\\"k3s\\"} \${k3s_added:-0}"
      echo "sovereign_backup_data_added_bytes{set=\\"volumes\\"} \${vol_added:-0}"
    } >"$tmp"
    chmod 0644 "$tmp"; mv -f "$tmp" ${BACKUP_METRICS_DIR}/sovereign_backup.prom
  fi
}
on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ] && [ "$partial" -eq 0 ]; then
    write_status success 0
  else
    if [ "$rc" -eq 0 ]; then rc=3; fi
    write_status failed "$rc"
    echo "sovereign-backup: FAILED at step '$step' (exit $rc)" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT

# One run at a time, shared with restore.sh.
exec 9>${BACKUP_LOCK}
flock -n 9 || { echo "sovereign-backup: another backup or restore holds ${BACKUP_LOCK}" >&2; exit 75; }

step=repository
if ! err=$(r cat config 2>&1 >/dev/null); then
  if grep -q 'Is there a repository at the following location' <<<"$err"; then
    # No repository there: init (it refuses to overwrite one that exists).
    if ! err2=$(r init 2>&1); then
      grep -qE 'config file already exists|already initialized' <<<"$err2" || { echo "$err2" >&2; exit 1; }
    fi
    echo "sovereign-backup: repository initialized"
  else
    echo "$err" >&2; exit 1
  fi
fi
step=unlock
r unlock

if [ "$BACKUP_K3S" = 1 ]; then
  step=k3s-dump
  db="$K3S_DATA_DIR/server/db/state.db"
  stage="$STATE/stage/k3s"
  mkdir -p "$stage"
  # sqlite3 would create an empty database at a missing path.
  [ -f "$db" ] || { echo "sovereign-backup: $db not found (is this K3s on SQLite?)" >&2; exit 1; }
  rm -f "$stage/state.db.tmp"
  sqlite3 -bail "$db" ".timeout 30000" "VACUUM INTO '$stage/state.db.tmp'"
  check=$(sqlite3 "$stage/state.db.tmp" 'PRAGMA integrity_check')
  [ "$check" = ok ] || { echo "sovereign-backup: integrity_check of the dump: $check" >&2; exit 1; }
  mv -f "$stage/state.db.tmp" "$stage/state.db"
  install -m 0600 "$K3S_DATA_DIR/server/token" "$stage/token"
  step=backup-k3s
  r backup --json --host "$BACKUP_HOST" --tag sovereign-faas --tag k3s-datastore "$stage" >"$STATE/last-k3s.json"
  k3s_snap=$(field snapshot_id "$STATE/last-k3s.json"); k3s_added=$(field data_added "$STATE/last-k3s.json")
fi

step=backup-volumes
roots=()
for root in $VOLUME_ROOTS; do
  if [ -d "$root" ]; then roots+=("$root"); fi
done
if [ "\${#roots[@]}" -gt 0 ]; then
  set +e
  r backup --json --host "$BACKUP_HOST" --tag sovereign-faas --tag volumes --one-file-system --exclude-caches --exclude '.sovereign-restore.*' "\${roots[@]}" >"$STATE/last-volumes.json"
  rc=$?
  set -e
  vol_snap=$(field snapshot_id "$STATE/last-volumes.json"); vol_added=$(field data_added "$STATE/last-volumes.json")
  case $rc in
    0) ;;
    3) partial=1; echo "sovereign-backup: some volume files could not be read (snapshot $vol_snap is incomplete)" >&2 ;;
    *) exit "$rc" ;;
  esac
fi

step=forget
r forget --host "$BACKUP_HOST" --tag sovereign-faas --keep-daily "$KEEP_DAILY" --keep-weekly "$KEEP_WEEKLY" --keep-monthly "$KEEP_MONTHLY" --prune

step=check
r check --read-data-subset="$CHECK_SUBSET"
step=finished
echo "sovereign-backup: ok k3s=$k3s_snap (+\${k3s_added}B) volumes=$vol_snap (+\${vol_added}B)"
`;
}

/** restore.sh: snapshots | volume NAME [SNAPSHOT] | k3s [SNAPSHOT]. Restores into staging, verifies, swaps in; keeps what it replaced. */
export function renderRestoreScript(): string {
    return `#!/bin/bash
# sovereign-faas restore: restore.sh snapshots | volume NAME [SNAPSHOT] | k3s [SNAPSHOT]
# Restores into a staging directory first, verifies, then swaps it in; what it replaces is kept
# beside it (restic 0.14 cannot restore over an existing tree cleanly).
set -Eeuo pipefail
umask 077
STATE=${BACKUP_STATE_DIR}
${RESTIC_ENV}
die() { echo "restore: $*" >&2; exit 1; }
mkdir -p "$STATE" "$RESTIC_CACHE_DIR"
exec 9>${BACKUP_LOCK}
flock -w 600 9 || die "a backup is running (lock held)"
ts=$(date +%Y%m%dT%H%M%S)

case "\${1:-}" in
  snapshots)
    r snapshots --host "$BACKUP_HOST" ;;
  volume)
    name=\${2:?usage: restore.sh volume NAME [SNAPSHOT]}; snap=\${3:-latest}
    case "$name" in */*|.*|'') die "bad volume name '$name'" ;; esac
    dst=""
    for root in $VOLUME_ROOTS; do
      if [ -z "$dst" ] && { [ -e "$root/$name" ] || [ -d "$root" ]; }; then dst="$root/$name"; root_of="$root"; fi
    done
    [ -n "$dst" ] || die "no sovereign root holds $name"
    tmp=$(mktemp -d "$root_of/.sovereign-restore.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
    r restore "$snap" --host "$BACKUP_HOST" --tag volumes --include "$dst" --target "$tmp" --verify
    [ -d "$tmp$dst" ] || die "snapshot $snap has no $dst"
    if [ -e "$dst" ]; then mv "$dst" "$root_of/.sovereign-restore.old-$name-$ts"; fi
    mv "$tmp$dst" "$dst"
    echo "restore: $dst restored from $snap; what was there is in $root_of/.sovereign-restore.old-$name-$ts" ;;
  k3s)
    snap=\${2:-latest} stage="$STATE/stage/k3s"
    tmp=$(mktemp -d "$STATE/restore.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
    r restore "$snap" --host "$BACKUP_HOST" --tag k3s-datastore --include "$stage" --target "$tmp" --verify
    src="$tmp$stage"
    { [ -f "$src/state.db" ] && [ -f "$src/token" ]; } || die "snapshot $snap has no state.db and token"
    [ "$(sqlite3 "$src/state.db" 'PRAGMA integrity_check')" = ok ] || die "the restored state.db fails integrity_check"
    systemctl stop k3s
    db="$K3S_DATA_DIR/server/db"
    # The whole directory moves aside: a stale state.db-wal beside the restored file would be replayed.
    if [ -d "$db" ]; then mv "$db" "$db.pre-restore-$ts"; fi
    mkdir -m 0700 "$db"
    install -m 0600 "$src/state.db" "$db/state.db"
    if [ -f "$K3S_DATA_DIR/server/token" ]; then cp -a "$K3S_DATA_DIR/server/token" "$K3S_DATA_DIR/server/token.pre-restore-$ts"; fi
    install -m 0600 "$src/token" "$K3S_DATA_DIR/server/token"
    systemctl start k3s
    echo "restore: the K3s datastore is restored from $snap; the previous one is in $db.pre-restore-$ts" ;;
  *)
    echo "usage: restore.sh snapshots | volume NAME [SNAPSHOT] | k3s [SNAPSHOT]" >&2; exit 2 ;;
esac
`;
}

/** The OnFailure= hook: a failed run is logged at err priority, also when it died before writing its status. */
export function renderFailureHook(): string {
    return `#!/bin/bash
# OnFailure= hook: make a failed backup loud, also when the run died before it could write its status.
set -u
unit=\${1:-${BACKUP_UNIT}}
result=$(systemctl show -p Result --value "$unit")
code=$(systemctl show -p ExecMainStatus --value "$unit")
logger -p daemon.err -t sovereign-backup "backup unit $unit FAILED: Result=$result ExecMainStatus=$code; see: journalctl -u $unit -n 50"
state=${BACKUP_STATE_DIR}
start=$(systemctl show -p InactiveExitTimestamp --value "$unit" | xargs -r -I{} date -d {} +%s 2>/dev/null || echo 0)
finished=$(sed -n 's/.*"finished":\\([0-9]*\\).*/\\1/p' "$state/status.json" 2>/dev/null || echo 0)
# The run was killed (timeout, signal, OOM) before its EXIT trap wrote a status for it.
if [ "\${finished:-0}" -lt "\${start:-0}" ]; then
  last=$(cat "$state/last-success" 2>/dev/null || echo 0)
  printf '{"result":"failed","systemd_result":"%s","exit_code":%s,"failed_step":"killed","finished":%d,"last_success":%d}\\n' \\
    "$result" "\${code:-0}" "$(date +%s)" "$last" >"$state/status.json.tmp" && mv -f "$state/status.json.tmp" "$state/status.json"
fi
`;
}

/** The service, the timer and the failure hook's template unit. */
export function renderBackupUnits(s: BackupSettings): Record<string, string> {
    const credentials = ["restic-password", ...(s.target.kind === "sftp" ? ["ssh-key"] : ["s3-credentials"])].map((c) => `LoadCredential=${c}:${BACKUP_CONF_DIR}/${c}`);
    return {
        [BACKUP_UNIT]: `[Unit]
Description=Sovereign FaaS backup (K3s datastore and sovereign volumes, restic)
Documentation=file:${BACKUP_LIB_DIR}/backup.sh
Wants=network-online.target
After=network-online.target k3s.service
OnFailure=sovereign-backup-failure@%n.service

[Service]
Type=oneshot
ExecStart=${BACKUP_LIB_DIR}/backup.sh
${credentials.join("\n")}
StateDirectory=sovereign-faas/backup
StateDirectoryMode=0700
CacheDirectory=sovereign-faas/restic
CacheDirectoryMode=0700
UMask=0077
TimeoutStartSec=4h
Nice=10
IOSchedulingClass=idle
PrivateTmp=yes
NoNewPrivileges=yes
ProtectSystem=full
`,
        [BACKUP_TIMER]: `[Unit]
Description=Sovereign FaaS backup schedule

[Timer]
OnCalendar=${s.schedule}
RandomizedDelaySec=30min
Persistent=true

[Install]
WantedBy=timers.target
`,
        "sovereign-backup-failure@.service": `[Unit]
Description=Report the failure of %i

[Service]
Type=oneshot
ExecStart=${BACKUP_LIB_DIR}/backup-failed.sh %i
`,
    };
}

/** Every file the step installs: path -> [mode, content]. Sorted by path. */
export function renderBackupFiles(s: BackupSettings): Array<[string, string, string]> {
    const files: Array<[string, string, string]> = [
        [`${BACKUP_CONF_DIR}/backup.conf`, "0644", renderBackupConf(s)],
        [`${BACKUP_CONF_DIR}/repository`, "0600", `${repositoryOf(s.target)}\n`],
        [`${BACKUP_LIB_DIR}/backup.sh`, "0755", renderBackupRunScript()],
        [`${BACKUP_LIB_DIR}/restore.sh`, "0755", renderRestoreScript()],
        [`${BACKUP_LIB_DIR}/backup-failed.sh`, "0755", renderFailureHook()],
        ...Object.entries(renderBackupUnits(s)).map(([unit, text]) => [`/etc/systemd/system/${unit}`, "0644", text] as [string, string, string]),
    ];
    if (s.target.kind === "sftp") {
        files.push([`${BACKUP_CONF_DIR}/ssh_config`, "0644", renderSshConfig(s.target)], [`${BACKUP_CONF_DIR}/known_hosts`, "0644", renderKnownHosts(s.target)]);
    }
    return files.sort(([a], [b]) => a.localeCompare(b));
}

/** The names of the secret files the step reads from standard input, by target kind. */
export function backupSecretNames(t: BackupTarget): string[] {
    return ["restic-password", t.kind === "sftp" ? "ssh-key" : "s3-credentials"];
}

/**
 * Standard input of the install step: one line per secret file, `<name> <base64>`. Base64 keeps
 * every byte of a key intact on one line; the step refuses any other name.
 */
export function renderBackupSecretsStdin(secrets: Readonly<Record<string, string>>): string {
    return Object.entries(secrets)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => `${name} ${Buffer.from(value, "utf8").toString("base64")}`)
        .join("\n")
        .concat("\n");
}

/** The AWS shared-credentials file restic's S3 backend (minio-go) reads. */
export function renderS3Credentials(accessKeyId: string, secretAccessKey: string): string {
    return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}

/**
 * The install step: packages, files (written only when their content differs), the secrets from
 * standard input into 0600 files, the timer enabled. Idempotent: a re-run with the same input
 * changes nothing. Nothing here runs a backup; the timer does, and `systemctl start
 * sovereign-backup.service` runs one now.
 */
export function renderBackupInstallScript(s: BackupSettings, location: Location): string {
    const files = renderBackupFiles(s)
        .map(([path, mode, content]) => `install_file ${shellQuote(path)} ${mode} ${heredoc(content, "FILE")}`)
        .join("\n");
    const secretNames = backupSecretNames(s.target);
    const body = `${targetStamp(s.target)}
for pkg in restic sqlite3; do
  if ! command -v "$pkg" >/dev/null 2>&1; then
    log "installing $pkg (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null || fail "could not install $pkg: apt-get install $pkg"
    changed "installed $pkg"
  fi
done
mkdir -p ${BACKUP_CONF_DIR} ${BACKUP_LIB_DIR}
chmod 0700 ${BACKUP_CONF_DIR}
units_changed=0
install_file() { # path mode (content on stdin)
  local tmp
  tmp="$(mktemp)"
  cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "\${2#0}" ]; then rm -f "$tmp"; return 0; fi
  install -D -m "$2" "$tmp" "$1"; rm -f "$tmp"
  case "$1" in /etc/systemd/system/*) units_changed=1 ;; esac
  changed "$1"
}
${files}
# The secrets, from standard input: <name> <base64> per line, into 0600 files.
secrets_in="$(cat)"
while read -r name value; do
  [ -n "$name" ] || continue
  case "$name" in
    ${secretNames.join("|")}) ;;
    *) fail "unexpected secret '$name' on standard input" ;;
  esac
  # Decoded into a temporary file first: install_file must run in this shell, not in a pipeline's
  # subshell, or its change count would be lost.
  decoded="$(mktemp)"
  printf '%s' "$value" | base64 -d > "$decoded" || { rm -f "$decoded"; fail "the secret $name on standard input is not base64"; }
  install_file "${BACKUP_CONF_DIR}/$name" 0600 < "$decoded"
  rm -f "$decoded"
done <<< "$secrets_in"
for name in ${secretNames.join(" ")}; do
  [ -s "${BACKUP_CONF_DIR}/$name" ] || fail "the secret $name did not arrive on standard input"
done
if [ "$units_changed" = 1 ]; then systemctl daemon-reload; fi
if ! systemctl is-enabled --quiet ${BACKUP_TIMER} || ! systemctl is-active --quiet ${BACKUP_TIMER}; then
  systemctl enable --now ${BACKUP_TIMER} >/dev/null 2>&1 || fail "could not enable ${BACKUP_TIMER}"
  changed "enabled ${BACKUP_TIMER}"
fi
`;
    return renderScript({ step: "backups", location, body });
}
