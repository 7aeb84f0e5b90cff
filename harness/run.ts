// Helpers to run the server-side scripts in scripts/ as real processes.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..");
export const SCRIPTS_DIR = path.join(REPO_ROOT, "scripts");

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
}

export interface RunOptions {
  /** Written to stdin; stdin is closed right away when omitted (like a non-interactive ssh). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Start the process in its own process group (so tests can signal the whole group). */
  detached?: boolean;
  /** Called with the child right after it is spawned (e.g. to send it signals). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Run any executable, collecting its output. Never rejects on a non-zero exit. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(file, [...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: opts.detached ?? false,
    });
    opts.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on("error", () => undefined); // the script may exit before reading stdin
    child.stdin.end(opts.input ?? "");
  });
}

/** Run a command given as argv (a ShellCommand, as a step runs it: no shell), `opts.input` on stdin. */
export function runCommand(command: { argv: readonly string[] }, opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = command.argv;
  return run(file!, args, { timeoutMs: 60_000, ...opts });
}

/** Run scripts/NAME with ARGS. */
export function runScript(name: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(path.join(SCRIPTS_DIR, name), args, { timeoutMs: 30_000, ...opts });
}

/** process.env without proxy settings, so curl talks to 127.0.0.1 directly. */
export function envWithoutProxy(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(https?|ftp|all|no)_proxy$/i.test(key)) delete env[key];
  }
  return { ...env, ...extra };
}

/** A fresh temp directory; remove it with removeTempDir. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `portal-${label}-`));
}

export function removeTempDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export function describeResult(r: RunResult): string {
  return `exit=${r.code} signal=${r.signal} (${r.ms} ms)\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
