/**
 * `npm run test:vm`: the bootstrap scripts the components render, run byte for byte over real
 * SSH against a Debian 12 guest this test builds (debootstrap) and boots (QEMU), with their
 * effects checked from inside the guest. Prints each check, the timings, and "N passed, N failed".
 */
import { spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import {
    Location,
    mergeSysctlProfile,
    parsePreflightReport,
    remoteInvocation,
    renderBackupInstallScript,
    renderBackupSecretsStdin,
    renderS3Credentials,
    renderFirewallScript,
    renderK3sConfig,
    renderK3sInstallScript,
    renderK3sUninstallScript,
    renderKernelScript,
    renderPreflightScript,
    renderProbeScript,
    renderVolumeScript,
    SYSCTL_PROFILE_PATH,
} from "../../components";

const here = __dirname;
const location: Location = { country: "NO", region: "NO-03", site: "test" };
const work = fs.mkdtempSync(path.join(os.tmpdir(), "sfaas-vm-"));
const timings: Record<string, string> = {};
let passed = 0;
let failed = 0;
let booted = false;

/** The test's report goes to stdout, line by line. */
function say(line: string): void {
    process.stdout.write(`${line}\n`);
}

function check(name: string, ok: boolean, detail = ""): void {
    if (ok) {
        passed++;
        say(`ok   ${name}`);
    } else {
        failed++;
        say(`FAIL ${name}${detail ? `\n     ${detail.split("\n").join("\n     ")}` : ""}`);
    }
}

function sh(cmd: string, args: string[], timeoutMs = 600_000): SpawnSyncReturns<string> {
    return spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
}

function vmEnv(): Record<string, string> {
    return Object.fromEntries(
        fs
            .readFileSync(path.join(work, "vm.env"), "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split("=", 2) as [string, string]),
    );
}

/** Runs a command in the guest as the components would: the same string, root, key, pinned host key. */
function ssh(command: string, opts: { key?: string; port?: string; timeoutMs?: number; user?: string; input?: string | Buffer } = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
    const env = vmEnv();
    const t = Date.now();
    const r = spawnSync(
        "ssh",
        [
            "-i", opts.key ?? env.KEY,
            "-p", opts.port ?? env.SSH_PORT,
            "-o", `UserKnownHostsFile=${env.KNOWN_HOSTS}`,
            "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=10", // DEFAULT_DIAL_TIMEOUT_SECONDS of SshConnection
            `${opts.user ?? "root"}@127.0.0.1`,
            command,
        ],
        { encoding: "utf8", timeout: opts.timeoutMs ?? 600_000, ...(opts.input !== undefined ? { input: opts.input } : {}) },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

function run(script: string, step: string, user = "root"): ReturnType<typeof ssh> {
    return ssh(remoteInvocation(script, user, step), { user });
}

/** The k3s stand-in of a version (tests/vm/k3s-standin): not K3s, it answers the K3s step's calls. */
function standIn(version: string): string {
    const out = path.join(work, `k3s-${version}`);
    const r = spawnSync("go", ["build", "-trimpath", "-ldflags", `-s -w -X main.version=${version}`, "-o", out, "."], { cwd: path.join(here, "k3s-standin"), encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0" } });
    if (r.status !== 0) {
        throw new Error(`building the k3s stand-in failed (it needs go):\n${r.stderr}`);
    }
    return out;
}

/** Puts a binary at /usr/local/bin/k3s the way an operator stages an air-gapped upgrade (a rename, not an overwrite). */
function stageK3s(binary: string): void {
    ssh("cat > /tmp/k3s.new && install -m 755 /tmp/k3s.new /usr/local/bin/k3s", { input: fs.readFileSync(binary) });
}

/** The version of the k3s server process that runs now (its /proc/<pid>/exe). */
function runningK3s(): string {
    return ssh('pid="$(systemctl show -p MainPID --value k3s)"; [ "$pid" != 0 ] && "/proc/$pid/exe" --version | awk \'NR==1 {print $3}\'').stdout.trim();
}

const changes = (stderr: string): number => Number(/done: (\d+) change\(s\)/.exec(stderr)?.[1] ?? -1);

function stop(): void {
    if (booted) {
        sh(path.join(here, "boot.sh"), ["stop", work]);
        booted = false;
    }
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
        stop();
        process.exit(130);
    });
}

/** A guest listener that answers "open", to tell an open port from a dropped one through QEMU's forwarding. */
function listen(port: number): void {
    ssh(`setsid nohup sh -c 'while :; do echo open | nc -N -l ${port}; done' </dev/null >/dev/null 2>&1 &`);
}

function probeOnce(hostPort: string): boolean {
    const r = spawnSync("nc", ["-w", "3", "127.0.0.1", hostPort], { encoding: "utf8", input: "", timeout: 8000 });
    return r.stdout.includes("open");
}

/** Whether a forwarded guest port answers; an expected-open port gets a few tries (the guest is emulated). */
function probe(hostPort: string, tries = 1): boolean {
    for (let i = 0; i < tries; i++) {
        if (probeOnce(hostPort)) {
            return true;
        }
        if (i + 1 < tries) {
            // QEMU answers a connection to a guest port nobody listens on at once: wait, not spin.
            spawnSync("sleep", ["2"]);
        }
    }
    return false;
}

// --- backups: an SFTP target on the host's loopback ------------------------------------------------
/** The backup target: an sshd the test starts on the host, chrooted to an sftp-only directory. */
interface Target {
    readonly port: number;
    readonly hostKey: string;
    readonly clientKey: string;
    readonly root: string;
    readonly pid: string;
}

function freePort(): number {
    const r = sh("python3", ["-c", 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()']);
    return Number(r.stdout.trim());
}

function startTarget(): Target {
    const port = freePort();
    // The chroot and every directory above it must be root-owned and not writable by others
    // (sshd refuses /tmp and /var/tmp: "bad ownership or modes for chroot directory component").
    const root = fs.mkdtempSync("/var/lib/sfaas-backup-target-");
    fs.chmodSync(root, 0o755);
    fs.mkdirSync(path.join(root, "repo"), { mode: 0o700 });
    const hostKeyFile = path.join(work, "target_host_key");
    const clientKeyFile = path.join(work, "backup_client_key");
    for (const f of [hostKeyFile, clientKeyFile]) {
        sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sovereign-faas-backup-test", "-f", f]);
    }
    fs.writeFileSync(path.join(work, "target_authorized_keys"), fs.readFileSync(`${clientKeyFile}.pub`));
    const pid = path.join(work, "target-sshd.pid");
    fs.writeFileSync(
        path.join(work, "target_sshd_config"),
        [
            `Port ${port}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${hostKeyFile}`,
            `PidFile ${pid}`,
            `AuthorizedKeysFile ${path.join(work, "target_authorized_keys")}`,
            "AllowUsers root",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            // The keys live in the test's temporary directory, under the world-writable /tmp.
            "StrictModes no",
            `ChrootDirectory ${root}`,
            "ForceCommand internal-sftp",
            "Subsystem sftp internal-sftp",
            "",
        ].join("\n"),
    );
    fs.mkdirSync("/run/sshd", { recursive: true });
    const r = sh("/usr/sbin/sshd", ["-f", path.join(work, "target_sshd_config"), "-E", path.join(work, "target_sshd.log")]);
    if (r.status !== 0) {
        throw new Error(`the backup target's sshd did not start:\n${r.stderr}`);
    }
    return { port, hostKey: fs.readFileSync(`${hostKeyFile}.pub`, "utf8").split(" ").slice(0, 2).join(" "), clientKey: fs.readFileSync(clientKeyFile, "utf8"), root, pid };
}

function stopTarget(t: Target | undefined): void {
    if (t === undefined) {
        return;
    }
    try {
        process.kill(Number(fs.readFileSync(t.pid, "utf8").trim()));
    } catch {
        // already gone
    }
    fs.rmSync(t.root, { recursive: true, force: true });
}

let target: Target | undefined;

/** A local S3-compatible server for the S3 path: gofakes3, built from the Go module proxy (pinned). */
export const GOFAKES3_MODULE = "github.com/johannesboyne/gofakes3/cmd/gofakes3@v1.2.0";
let s3: { port: number; pid: number } | undefined;

function startS3(): { port: number; pid: number } {
    const bin = path.join(work, "bin");
    const build = spawnSync("go", ["install", GOFAKES3_MODULE], { encoding: "utf8", env: { ...process.env, GOBIN: bin, CGO_ENABLED: "0" }, timeout: 600_000 });
    if (build.status !== 0) {
        throw new Error(`building ${GOFAKES3_MODULE} failed:\n${build.stderr}`);
    }
    const port = freePort();
    // The bolt backend: its listings are what restic's lock and snapshot listing need (the fs
    // backend answered "The specified bucket does not exist" to restic's List(lock) here).
    const child = spawn(path.join(bin, "gofakes3"), ["-host", `127.0.0.1:${port}`, "-backend", "bolt", "-bolt.db", path.join(work, "s3.db"), "-initialbucket", "vps1-backups"], { stdio: "ignore", detached: true });
    child.unref();
    spawnSync("sleep", ["1"]);
    return { port, pid: child.pid as number };
}

function stopS3(): void {
    if (s3 !== undefined) {
        try {
            process.kill(s3.pid);
        } catch {
            // already gone
        }
    }
}

function backups(): void {
    const t = target as Target;
    const settings = {
        schedule: "*-*-* 03:15:00",
        retention: { daily: 7, weekly: 4, monthly: 6 },
        checkSubset: "100%",
        target: { kind: "sftp" as const, host: "10.0.2.100", port: 22, user: "root", path: "/repo", hostKey: t.hostKey },
        volumeRoots: ["/data/sovereign"],
        k3s: true,
        backupHost: "sovereign-test",
    };
    const password = "vm-test-restic-password-never-in-a-command-line";
    const stdin = renderBackupSecretsStdin({ "restic-password": password, "ssh-key": t.clientKey });
    const install = (s = settings) => ssh(remoteInvocation(renderBackupInstallScript(s, location), "root", "backups"), { input: stdin });

    // A K3s SQLite datastore in WAL mode, as kine keeps it, and the server token (K3s itself cannot run here).
    ssh(
        "mkdir -p /var/lib/rancher/k3s/server/db && cd /var/lib/rancher/k3s/server && echo K10test::server:secret > token && chmod 600 token && " +
            "sqlite3 db/state.db 'PRAGMA journal_mode=WAL; CREATE TABLE kine(id INTEGER PRIMARY KEY, name TEXT, value BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<500) INSERT INTO kine(name, value) SELECT \"/registry/k\" || i, randomblob(200) FROM n;' >/dev/null",
    );
    // Known data in a sovereign volume: 40 files, one nested, one with a space in its name.
    ssh("mkdir -p /data/sovereign/profiles/nested && for i in $(seq 1 40); do head -c $((i * 2048)) /dev/urandom > /data/sovereign/profiles/user-$i.json; done && echo nested > /data/sovereign/profiles/nested/a\\ b.txt && chown -R 10000 /data/sovereign/profiles");
    const sums = ssh("cd /data/sovereign/profiles && find . -type f -print0 | sort -z | xargs -0 sha256sum").stdout;

    let tt = Date.now();
    const i1 = install();
    timings["backups: install"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    check("backups: the install step writes the scripts, units and 0600 secrets, and enables the timer", i1.status === 0 && ssh("systemctl is-enabled sovereign-backup.timer && systemctl is-active sovereign-backup.timer && stat -c %a /etc/sovereign-faas/backup/restic-password /etc/sovereign-faas/backup/ssh-key").stdout.trim() === "enabled\nactive\n600\n600", i1.stderr);
    const i2 = install();
    check("backups: a second install changes nothing", i2.status === 0 && changes(i2.stderr) === 0, i2.stderr);
    const rotated = ssh(remoteInvocation(renderBackupInstallScript(settings, location), "root", "backups"), { input: renderBackupSecretsStdin({ "restic-password": `${password}-old`, "ssh-key": t.clientKey }) });
    const restored = install();
    check("backups: a changed secret is written and counted as a change, and changing it back converges", rotated.status === 0 && changes(rotated.stderr) === 1 && restored.status === 0 && changes(restored.stderr) === 1, `${rotated.stderr}\n${restored.stderr}`);
    check("backups: no secret is in the install step's command line or output", !remoteInvocation(renderBackupInstallScript(settings, location), "root", "backups").includes(password) && !i1.stderr.includes(password) && !i1.stdout.includes(password));

    tt = Date.now();
    const b1 = ssh("systemctl start sovereign-backup.service; systemctl is-failed sovereign-backup.service; cat /var/lib/sovereign-faas/backup/status.json", { timeoutMs: 900_000 });
    timings["backups: first backup (init, K3s datastore, volumes, forget, check)"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    let s1: Record<string, unknown> = {};
    try {
        s1 = JSON.parse(b1.stdout.trim().split("\n").pop() ?? "{}");
    } catch {
        s1 = {};
    }
    check("backups: the first run initialises the repository and backs up the datastore and the volumes", s1.result === "success" && /^[0-9a-f]{8}/.test(String(s1.k3s_snapshot)) && /^[0-9a-f]{8}/.test(String(s1.volumes_snapshot)) && /^inactive/.test(b1.stdout), b1.stdout + b1.stderr + ssh("journalctl -u sovereign-backup -n 30 --no-pager").stdout);
    check("backups: the repository is on the target, encrypted (no plain file name in it)", fs.existsSync(path.join(t.root, "repo", "config")) && !sh("grep", ["-rl", "user-1.json", path.join(t.root, "repo")]).stdout.trim(), "");

    // The datastore copy is consistent and complete: restore it elsewhere and count.
    const restoreEnv = "export RESTIC_REPOSITORY_FILE=/etc/sovereign-faas/backup/repository RESTIC_PASSWORD_FILE=/etc/sovereign-faas/backup/restic-password RESTIC_CACHE_DIR=/var/cache/sovereign-faas/restic";
    const sftp = "-o 'sftp.command=ssh -F /etc/sovereign-faas/backup/ssh_config -i /etc/sovereign-faas/backup/ssh-key sovereign-backup-target -s sftp'";
    const k3sCheck = ssh(`${restoreEnv}; rm -rf /tmp/k3s-check && restic ${sftp} restore latest --tag k3s-datastore --target /tmp/k3s-check >/dev/null && d=$(find /tmp/k3s-check -name state.db) && sqlite3 "$d" 'PRAGMA integrity_check; SELECT count(*) FROM kine;' && cat "$(dirname "$d")/token"`);
    check("backups: the K3s datastore snapshot is a consistent SQLite file with every row, and carries the token", k3sCheck.stdout.trim() === "ok\n500\nK10test::server:secret", k3sCheck.stdout + k3sCheck.stderr);

    // Destroy the volume, restore it from the snapshot, compare every file's hash.
    ssh("rm -rf /data/sovereign/profiles");
    tt = Date.now();
    const rs = ssh("/usr/local/lib/sovereign-faas/restore.sh volume profiles latest");
    timings["backups: restore of the volume"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    const sumsAfter = ssh("cd /data/sovereign/profiles && find . -type f -print0 | sort -z | xargs -0 sha256sum").stdout;
    check("backups: after the directory is destroyed, the restore brings back every file with the same hash (41 files)", rs.status === 0 && sumsAfter === sums && sums.trim().split("\n").length === 41, `${rs.stderr}\n${sumsAfter.slice(0, 400)}`);
    check("backups: the restored files keep their owner", ssh("stat -c %u /data/sovereign/profiles/user-1.json").stdout.trim() === "10000");

    // A second run adds only what changed.
    ssh("echo changed >> /data/sovereign/profiles/user-2.json");
    tt = Date.now();
    const b2 = ssh("systemctl start sovereign-backup.service; cat /var/lib/sovereign-faas/backup/status.json", { timeoutMs: 900_000 });
    timings["backups: second backup (incremental)"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    let s2: Record<string, unknown> = {};
    try {
        s2 = JSON.parse(b2.stdout.trim().split("\n").pop() ?? "{}");
    } catch {
        s2 = {};
    }
    check(
        `backups: a second run is incremental (volumes added ${String(s2.volumes_data_added)} bytes, the first ${String(s1.volumes_data_added)})`,
        s2.result === "success" && Number(s2.volumes_data_added) > 0 && Number(s2.volumes_data_added) * 20 < Number(s1.volumes_data_added),
        b2.stdout + b2.stderr,
    );

    // An unreachable target fails visibly: the unit fails, the status says where, the hook logs at err.
    const unreachable = { ...settings, target: { ...settings.target, host: "10.0.2.101" } };
    install(unreachable);
    tt = Date.now();
    const bf = ssh("systemctl start sovereign-backup.service; echo rc=$?; systemctl is-failed sovereign-backup.service; sleep 2; cat /var/lib/sovereign-faas/backup/status.json; journalctl -t sovereign-backup -p err --no-pager -n 5", { timeoutMs: 900_000 });
    timings["backups: a run against an unreachable target"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    check(
        "backups: a backup to an unreachable target fails visibly: the unit is failed, status.json says failed at 'repository', and an err-priority log line names the unit",
        /rc=[1-9]/.test(bf.stdout) && /\nfailed\n/.test(bf.stdout) && /"result":"failed"/.test(bf.stdout) && /"failed_step":"repository"/.test(bf.stdout) && /backup unit sovereign-backup.service FAILED/.test(bf.stdout),
        bf.stdout + bf.stderr,
    );
    const back = install();
    check("backups: putting the target back converges, and the next run succeeds", back.status === 0 && changes(back.stderr) > 0 && /"result":"success"/.test(ssh("systemctl start sovereign-backup.service; cat /var/lib/sovereign-faas/backup/status.json", { timeoutMs: 900_000 }).stdout), back.stderr);
    check("backups: the restic password never reached the journal", !ssh("journalctl --no-pager").stdout.includes(password));

    // The S3 path, against gofakes3 on the host's loopback (10.0.2.101:9000 in the guest). The config
    // requires https; this local server speaks plain HTTP, so the test drives the renderer directly.
    const s3Settings = { ...settings, target: { kind: "s3" as const, endpoint: "http://10.0.2.101:9000", bucket: "vps1-backups", prefix: "sovereign-test" } };
    const s3Stdin = renderBackupSecretsStdin({ "restic-password": password, "s3-credentials": renderS3Credentials("AKIAVMTEST", "vm-test-s3-secret-key-never-on-a-command-line") });
    const s3Sums = ssh("cd /data/sovereign/profiles && find . -type f -print0 | sort -z | xargs -0 sha256sum").stdout;
    const s3Install = ssh(remoteInvocation(renderBackupInstallScript(s3Settings, location), "root", "backups"), { input: s3Stdin });
    tt = Date.now();
    const b3 = ssh("systemctl start sovereign-backup.service; cat /var/lib/sovereign-faas/backup/status.json", { timeoutMs: 900_000 });
    timings["backups: first backup to S3"] = `${((Date.now() - tt) / 1000).toFixed(1)}s`;
    check("backups (S3): the install switches the unit to the S3 credentials, and a run initialises and fills the bucket", s3Install.status === 0 && /"result":"success"/.test(b3.stdout) && ssh("grep -c LoadCredential=s3-credentials /etc/systemd/system/sovereign-backup.service").stdout.trim() === "1", `${s3Install.stderr}\n${b3.stdout}${b3.stderr}${ssh("journalctl -u sovereign-backup -n 20 --no-pager").stdout}`);
    ssh("rm -rf /data/sovereign/profiles");
    const s3Restore = ssh("/usr/local/lib/sovereign-faas/restore.sh volume profiles latest");
    const s3After = ssh("cd /data/sovereign/profiles && find . -type f -print0 | sort -z | xargs -0 sha256sum").stdout;
    check("backups (S3): the volume restored from the bucket has every file's hash", s3Restore.status === 0 && s3After === s3Sums && s3Sums.trim().split("\n").length === 41, `${s3Restore.stderr}\n${s3After.slice(0, 300)}`);
    check("backups (S3): the secret key is in a 0600 file only, never in the journal", ssh("stat -c %a /etc/sovereign-faas/backup/s3-credentials").stdout.trim() === "600" && !ssh("journalctl --no-pager").stdout.includes("vm-test-s3-secret-key"));
    // Back to the SFTP target, for the reboot checks.
    install();
}

function main(): void {
    // --- image and boot --------------------------------------------------------------------------
    let t = Date.now();
    const image = sh(path.join(here, "image.sh"), []);
    if (image.status !== 0) {
        throw new Error(`image build failed:\n${image.stderr}`);
    }
    const imageDir = image.stdout.trim().split("\n").pop() as string;
    timings.image = `${((Date.now() - t) / 1000).toFixed(1)}s (${/cached/.test(image.stderr) ? "cached" : "cold build"})`;
    t = Date.now();
    target = startTarget();
    process.env.BACKUP_TARGET_PORT = String(target.port);
    s3 = startS3();
    process.env.S3_TARGET_PORT = String(s3.port);
    const boot = sh(path.join(here, "boot.sh"), ["start", imageDir, work]);
    booted = fs.existsSync(path.join(work, "qemu.pid"));
    if (boot.status !== 0) {
        throw new Error(`boot failed:\n${boot.stderr}`);
    }
    timings.boot = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    const env = vmEnv();

    // --- connection ----------------------------------------------------------------------------
    const probeRun = run(renderProbeScript(location), "connect");
    check("connect: the probe logs in as root over SSH with the pinned host key", probeRun.status === 0 && /connected to sovereign-test as root/.test(probeRun.stderr), probeRun.stderr);

    // --- preflight -----------------------------------------------------------------------------
    const strict = run(renderPreflightScript({ location, minFreeDiskGiB: 10, minMemoryMiB: 1536, dataPath: "/data/sovereign" }), "preflight");
    check(
        "preflight: a 3 GiB / 1 GiB guest fails the default thresholds with a clear reason",
        strict.status !== 0 && /only \d+ GiB free on \/var\/lib/.test(strict.stderr) && /only \d+ MiB of memory/.test(strict.stderr) && /this host cannot run K3s/.test(strict.stderr),
        strict.stderr,
    );
    const pre = run(renderPreflightScript({ location, minFreeDiskGiB: 1, minMemoryMiB: 512, dataPath: "/data/sovereign" }), "preflight");
    let report: ReturnType<typeof parsePreflightReport> | undefined;
    try {
        report = parsePreflightReport(pre.stdout);
    } catch {
        report = undefined;
    }
    check("preflight: passes with test thresholds and reports kernel, cgroup v2, overlayfs, disk, steal, NVMe", pre.status === 0 && report?.cgroup === "v2" && report?.overlayfs === true && /^6\./.test(report?.kernel ?? "") && report?.rootDiskNvme === false, `${pre.stdout}\n${pre.stderr}`);
    say(`     report: ${JSON.stringify(report)}`);

    // --- kernel --------------------------------------------------------------------------------
    const swapBefore = ssh("swapon --show --noheadings");
    check("kernel (before): the guest starts with its swap file on", swapBefore.stdout.includes("/swapfile"), swapBefore.stdout + swapBefore.stderr);
    const profile = mergeSysctlProfile({});
    const kernelScript = renderKernelScript({ location, profile, nofileLimit: 65536 });
    // Interrupted half way: the script is killed 3 s in, then run again.
    const killed = ssh(`( ${remoteInvocation(kernelScript, "root", "kernel")}) >/tmp/partial.log 2>&1 & sleep 3; pkill -KILL -f sovereign-faas-kernel; sleep 1; cat /tmp/partial.log`);
    check("kernel: the interrupted run was cut before it finished", !killed.stdout.includes("done:"), killed.stdout);
    t = Date.now();
    const k1 = run(kernelScript, "kernel");
    timings["kernel, first full run"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    check("kernel: a run after an interrupted one converges and exits 0", k1.status === 0 && changes(k1.stderr) >= 0, k1.stderr);
    const keys = Object.keys(profile);
    const values = ssh(keys.map((k) => `printf '%s=%s\\n' ${k} "$(sysctl -n ${k} | tr -s '[:space:]' ' ' | sed 's/ $//')"`).join("; "));
    const live = Object.fromEntries(values.stdout.trim().split("\n").map((l) => l.split(/=(.*)/s, 2)));
    const wrong = keys.filter((k) => live[k] !== profile[k]).map((k) => `${k}: ${live[k]} != ${profile[k]}`);
    check(`kernel: all ${keys.length} sysctls of the profile have the rendered value (sysctl -n)`, wrong.length === 0, wrong.join("\n"));
    const file = ssh(`cat ${SYSCTL_PROFILE_PATH}`);
    check(`kernel: ${SYSCTL_PROFILE_PATH} holds the profile`, file.status === 0 && keys.every((k) => file.stdout.includes(`${k} = ${profile[k]}`)), file.stdout);
    const swap = ssh("swapon --show --noheadings; grep -c '^# disabled by sovereign-faas' /etc/fstab; systemctl is-enabled swap.target || true");
    check("kernel: swap is off, its fstab entry commented out, swap.target masked", swap.stdout.trim().split("\n").join("|") === "1|masked", swap.stdout);
    const limits = ssh("ulimit -n; systemctl show -p DefaultLimitNOFILE --value");
    check("kernel: open files 65536 in a new session and for every service", limits.stdout.trim().split("\n").join("|") === "65536|65536", limits.stdout);
    t = Date.now();
    const k2 = run(kernelScript, "kernel");
    timings["kernel, second run"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    check("kernel: a second run changes nothing, exits 0 and says so", k2.status === 0 && changes(k2.stderr) === 0, k2.stderr);
    const before = ssh(`sha256sum ${SYSCTL_PROFILE_PATH}`).stdout;
    const bad = run(renderKernelScript({ location, profile: { ...profile, "vm.swappiness": "1000", "net.ipv4.tcp_sovereign_faas": "1" }, nofileLimit: 65536 }), "kernel");
    check(
        "kernel: values the kernel rejects fail with messages naming the keys, the boot profile untouched",
        bad.status !== 0 &&
            bad.stderr.includes("sysctl vm.swappiness = 1000: the kernel rejected it") &&
            bad.stderr.includes("sysctl net.ipv4.tcp_sovereign_faas: this kernel has no such sysctl") &&
            ssh(`sha256sum ${SYSCTL_PROFILE_PATH}`).stdout === before,
        bad.stderr,
    );

    // IPv6: QEMU's user network sends router advertisements; the guest's default route comes from
    // them. With accept_ra 2 it survives forwarding, which K3s turns on for IPv6 clusters.
    const ra = ssh("sysctl -n net.ipv6.conf.eth0.accept_ra; cat /etc/sysctl.d/98-sovereign-faas-ipv6-ra.conf; sysctl -qw net.ipv6.conf.all.forwarding=1; sleep 4; ip -6 route show default");
    check(
        "kernel: the RA-accepting interface gets accept_ra 2, kept at boot, and its IPv6 default route survives forwarding",
        ra.stdout.startsWith("2\n") && ra.stdout.includes("net/ipv6/conf/eth0/accept_ra = 2") && /default via fe80::\S+ dev eth0 proto ra/.test(ra.stdout),
        ra.stdout + ra.stderr,
    );
    ssh("sysctl -qw net.ipv6.conf.all.forwarding=0");

    // --- firewall ------------------------------------------------------------------------------
    for (const port of [80, 6443, 10250]) {
        listen(port);
    }
    check("firewall (before): the probe method sees guest ports 80, 6443 and 10250 open", probe(env.HTTP_PORT, 5) && probe(env.API_PORT, 5) && probe(env.KUBELET_PORT, 5));
    const lockout = run(renderFirewallScript({ location, sshSources: ["198.51.100.0/24"], apiSources: [], sshPort: 22 }), "firewall");
    check("firewall: refuses rules that would lock out the SSH client applying them", lockout.status !== 0 && /this SSH client \(10\.0\.2\.2\) is not in sovereign-faas:firewall.sshSources/.test(lockout.stderr), lockout.stderr);
    const fwScript = renderFirewallScript({ location, sshSources: ["10.0.2.0/24"], apiSources: [], sshPort: 22 });
    t = Date.now();
    const f1 = run(fwScript, "firewall");
    timings["firewall, first run"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    check("firewall: applies over the SSH session it could have cut", f1.status === 0, f1.stderr);
    const table = ssh("nft list table inet sovereign_faas");
    check(
        "firewall: active with exactly the intended accept rules",
        table.stdout.includes("policy drop;") &&
            (table.stdout.match(/tcp dport[^\n]*accept/g) ?? []).map((l) => l.trim()).join("|") ===
                "tcp dport 22 ip saddr @ssh_v4 accept|tcp dport 22 ip6 saddr @ssh_v6 accept|tcp dport { 80, 443 } accept|tcp dport 6443 ip saddr @api_v4 accept|tcp dport 6443 ip6 saddr @api_v6 accept",
        table.stdout,
    );
    check("firewall: from the host, 80 is open, 6443 (no apiSources) and 10250 are closed", probe(env.HTTP_PORT, 5) && !probe(env.API_PORT) && !probe(env.KUBELET_PORT));
    check("firewall: a new SSH connection still works", ssh("true").status === 0);
    const f2 = run(fwScript, "firewall");
    check("firewall: a second run changes nothing", f2.status === 0 && changes(f2.stderr) === 0, f2.stderr);

    // The guard also works through sudo, whose env_reset hides SSH_CLIENT from the script.
    const viaSudo = run(renderFirewallScript({ location, sshSources: ["198.51.100.0/24"], apiSources: ["10.0.2.0/24"], sshPort: 22 }), "firewall", "deploy");
    check("firewall: through sudo (sshUser deploy), the lock-out guard still finds the client and refuses", viaSudo.status !== 0 && /this SSH client \(10\.0\.2\.2\) is not in sovereign-faas:firewall.sshSources/.test(viaSudo.stderr), viaSudo.stderr);
    const apiGuard = run(renderFirewallScript({ location, sshSources: ["10.0.2.0/24"], apiSources: ["198.51.100.0/24"], sshPort: 22, requireClientApiAccess: true }), "firewall", "deploy");
    check("firewall: it refuses rules under which the machine running pulumi up could not reach the API", apiGuard.status !== 0 && /is not in sovereign-faas:firewall.apiSources, so pulumi up on this machine could not reach the Kubernetes API on 6443/.test(apiGuard.stderr), apiGuard.stderr);
    const sudoOk = run(fwScript, "firewall", "deploy");
    check("firewall: through sudo with the client in the sources it applies (no change)", sudoOk.status === 0 && changes(sudoOk.stderr) === 0, sudoOk.stderr);

    // --- sovereign volumes ---------------------------------------------------------------------
    const volume = { name: "profiles", hostPath: "/data/sovereign/profiles", mountPath: "/data/profiles", readOnly: true, functions: ["user-profile"], owner: 10000, requireEncryption: false };
    const volScript = renderVolumeScript([volume], location, ["/data/sovereign"]);
    const v1 = run(volScript, "volumes");
    const stat = ssh("stat -c '%u %a' /data/sovereign/profiles");
    check("volumes: the directory exists with owner 10000 and mode 700", v1.status === 0 && stat.stdout.trim() === "10000 700", `${v1.stderr}\n${stat.stdout}`);
    check("volumes: the report says whether it is encrypted and on NVMe", /SOVEREIGN_FAAS_VOLUMES \[\{"encrypted":false,"name":"profiles","nvme":false,"path":"\/data\/sovereign\/profiles"\}\]/.test(v1.stdout), v1.stdout);
    const v2 = run(volScript, "volumes");
    check("volumes: a second run changes nothing", v2.status === 0 && changes(v2.stderr) === 0, v2.stderr);
    ssh("ln -sfn /etc /data/sovereign/evil");
    const evil = run(renderVolumeScript([{ ...volume, name: "evil", hostPath: "/data/sovereign/evil" }], location, ["/data/sovereign"]), "volumes");
    check("volumes: a symlink out of the sovereign root is refused", evil.status !== 0 && evil.stderr.includes("volume evil: /data/sovereign/evil is a symbolic link"), evil.stderr);
    const enc = run(renderVolumeScript([{ ...volume, requireEncryption: true }], location, ["/data/sovereign"]), "volumes");
    check("volumes: requireEncryption fails on an unencrypted disk, naming the volume", enc.status !== 0 && enc.stderr.includes("volume profiles: /data/sovereign/profiles is not on an encrypted (dm-crypt/LUKS) device"), enc.stderr);

    // --- K3s (air-gapped) ----------------------------------------------------------------------
    // The K3s binary and images cannot be downloaded here, so the air-gapped path runs: it writes
    // config.yaml, then stops at the check for the staged binary, before anything is installed.
    const config = renderK3sConfig({ host: "127.0.0.1", location });
    const k3s = run(renderK3sInstallScript({ location, version: "v1.33.5+k3s1", config, airgap: true, readyTimeoutSeconds: 60 }), "k3s");
    const cfg = ssh("stat -c '%a' /etc/rancher/k3s/config.yaml; cat /etc/rancher/k3s/config.yaml");
    check(
        "k3s (air-gapped): config.yaml written (mode 600, node labels), then stops at the missing staged binary",
        k3s.status !== 0 && k3s.stderr.includes("air-gapped install: /usr/local/bin/k3s is missing") && cfg.stdout.startsWith("600\n") && cfg.stdout.includes("sovereign-faas.io/jurisdiction=NO"),
        `${k3s.stderr}\n${cfg.stdout}`,
    );

    // The rest of the K3s step with a stand-in for the k3s binary and its installer (K3s itself
    // cannot be had here): what runs for real is the step's own logic, on a real host.
    const v5 = "v1.33.5+k3s1";
    const v6 = "v1.33.6+k3s1";
    const [bin5, bin6] = [standIn(v5), standIn(v6)];
    stageK3s(bin5);
    ssh(`touch ${"/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"}`);
    ssh("cat > /usr/local/bin/k3s-install.sh", { input: fs.readFileSync(path.join(here, "k3s-standin", "k3s-install.sh")) });
    const k3sScript = (version: string, extraArgs: Record<string, string> = {}): string =>
        renderK3sInstallScript({ location, version, config: renderK3sConfig({ host: "127.0.0.1", location, extraArgs }), airgap: true, readyTimeoutSeconds: 60 });
    t = Date.now();
    const i1 = run(k3sScript(v5), "k3s");
    timings["k3s (stand-in), first install"] = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    check(`k3s (stand-in): installs ${v5} air-gapped, starts it, waits for Ready, kubeconfig 600`, i1.status === 0 && i1.stderr.includes(`K3s ${v5} installed`) && runningK3s() === v5 && ssh("stat -c %a /etc/rancher/k3s/k3s.yaml").stdout.trim() === "600", i1.stderr);
    const i2 = run(k3sScript(v5), "k3s");
    check("k3s (stand-in): a second run changes nothing", i2.status === 0 && changes(i2.stderr) === 0, i2.stderr);
    stageK3s(bin6);
    const i3 = run(k3sScript(v6), "k3s");
    check(`k3s (stand-in): an air-gapped upgrade to the staged ${v6} runs the installer and ends with ${v6} running`, i3.status === 0 && i3.stderr.includes(`upgrading K3s in place: ${v5} -> ${v6}`) && runningK3s() === v6, `${i3.stderr}\nrunning: ${runningK3s()}`);
    // A host upgraded from program 0.1 has no version marker: the staged binary is the new one, the
    // server still the old one. The step restarts it instead of skipping (0.1 skipped).
    stageK3s(bin5);
    ssh("systemctl restart k3s");
    stageK3s(bin6);
    ssh("rm -f /var/lib/sovereign-faas/k3s-version");
    const i4 = run(k3sScript(v6), "k3s");
    check(`k3s (stand-in): with ${v6} staged but ${v5} still running, the step restarts K3s onto ${v6}`, i4.status === 0 && i4.stderr.includes(`K3s restarted: it ran ${v5}, the installed version is ${v6}`) && runningK3s() === v6, `${i4.stderr}\nrunning: ${runningK3s()}`);
    const i5 = run(k3sScript(v6, { "cluster-domain": "sovereign.local" }), "k3s");
    check("k3s (stand-in): a config.yaml change restarts K3s with it", i5.status === 0 && i5.stderr.includes("K3s restarted for the new /etc/rancher/k3s/config.yaml"), i5.stderr);
    ssh("mkdir -p /data/sovereign/keep && echo kept > /data/sovereign/keep/file");
    const un = run(renderK3sUninstallScript(location), "k3s-uninstall");
    check("k3s (stand-in): the uninstall step (uninstallOnDestroy) removes K3s and /var/lib/rancher, and keeps the sovereign data", un.status === 0 && ssh("test ! -e /var/lib/rancher && ! systemctl is-active --quiet k3s && cat /data/sovereign/keep/file").stdout.trim() === "kept", un.stderr);
    const stepLog = ssh("cat /var/log/sovereign-faas/steps.log").stdout;
    check("k3s (stand-in): every step wrote its start and end to the host's step log", /k3s started\n.*k3s done: \d+ change\(s\)/.test(stepLog) && stepLog.includes("k3s-uninstall started"), stepLog.slice(-1500));

    // --- backups -------------------------------------------------------------------------------
    backups();

    // --- reboot --------------------------------------------------------------------------------
    t = Date.now();
    const rb = sh(path.join(here, "boot.sh"), ["reboot", work]);
    timings.reboot = `${((Date.now() - t) / 1000).toFixed(1)}s`;
    check("reboot: the guest comes back", rb.status === 0, rb.stderr);
    const after = ssh(keys.map((k) => `printf '%s=%s\\n' ${k} "$(sysctl -n ${k} | tr -s '[:space:]' ' ' | sed 's/ $//')"`).join("; "));
    const liveAfter = Object.fromEntries(after.stdout.trim().split("\n").map((l) => l.split(/=(.*)/s, 2)));
    const lost = keys.filter((k) => liveAfter[k] !== profile[k]).map((k) => `${k}: ${liveAfter[k]} != ${profile[k]}`);
    check("reboot: every sysctl survives", lost.length === 0, lost.join("\n"));
    check("reboot: swap stays off", ssh("swapon --show --noheadings").stdout.trim() === "");
    check("reboot: the firewall is loaded at boot", /policy drop;/.test(ssh("nft list table inet sovereign_faas").stdout));
    check("reboot: the backup timer is still scheduled", ssh("systemctl is-active sovereign-backup.timer").stdout.trim() === "active");
    const k3 = run(kernelScript, "kernel");
    check("reboot: the kernel step still has nothing to change", k3.status === 0 && changes(k3.stderr) === 0, k3.stderr);

    // --- faults --------------------------------------------------------------------------------
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "wrong_key")]);
    const wrongKey = ssh("true", { key: path.join(work, "wrong_key") });
    check(`faults: a wrong SSH key fails fast (${wrongKey.ms} ms) with "Permission denied (publickey)"`, wrongKey.status !== 0 && wrongKey.ms < 15000 && wrongKey.stderr.includes("Permission denied (publickey)"), wrongKey.stderr);
    const unreachable = ssh("true", { port: "1" });
    check(`faults: an unreachable host fails fast (${unreachable.ms} ms) with a clear message`, unreachable.status !== 0 && unreachable.ms < 15000 && /Connection refused|timed out/.test(unreachable.stderr), unreachable.stderr);
}

try {
    main();
} catch (err) {
    failed++;
    say(`FAIL ${(err as Error).message}`);
} finally {
    stop();
    stopTarget(target);
    stopS3();
    fs.rmSync(work, { recursive: true, force: true });
}
say("\ntimings:");
for (const [k, v] of Object.entries(timings)) {
    say(`  ${k}: ${v}`);
}
say(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
