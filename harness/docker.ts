// Make sure the local test image (built without any registry) exists.
import * as path from "node:path";
import { REPO_ROOT, run } from "./run";

export const TEST_IMAGE = "portal-test:busybox";
/** The drill benchmark's fast app (host nginx on the test image's rootfs). */
export const FAST_IMAGE = "portal-test:nginx";
export const FAST_BUILD_SCRIPT = path.join(REPO_ROOT, "test", "fixtures", "build-fast-image.sh");

/** Build portal-test:nginx (and portal-test:busybox under it) unless it exists. */
export async function ensureFastImage(): Promise<void> {
  await ensureTestImage();
  const r = await run(FAST_BUILD_SCRIPT, [], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`build-fast-image.sh failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
}
export const BUILD_SCRIPT = path.join(REPO_ROOT, "test", "fixtures", "build-test-image.sh");

let ensured: Promise<void> | undefined;

/** Build portal-test:busybox with test/fixtures/build-test-image.sh unless it already exists. */
export function ensureTestImage(opts: { force?: boolean } = {}): Promise<void> {
  if (!ensured || opts.force) {
    ensured = (async () => {
      const info = await run("docker", ["info", "--format", "{{.ServerVersion}}"], { timeoutMs: 20_000 });
      if (info.code !== 0) {
        throw new Error(`docker daemon is not reachable (start dockerd): ${info.stderr.trim()}`);
      }
      const r = await run(BUILD_SCRIPT, opts.force ? ["--force"] : [], { timeoutMs: 120_000 });
      if (r.code !== 0) {
        throw new Error(`build-test-image.sh failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
      }
    })();
    ensured.catch(() => (ensured = undefined));
  }
  return ensured;
}

/** docker CLI helper; resolves with the result even on failure. */
export function docker(args: readonly string[], timeoutMs = 30_000) {
  return run("docker", args, { timeoutMs });
}
