// Config rolls out like a tag: the helper's prepare and reconfigure give the prepared color
// its own copy of app.env (release.env.<color>) and of the app secrets' ciphertexts
// (portal:colorSecrets.<color>), on a copy of the production stack file, line for line.

import assert from "node:assert/strict";
import { parse } from "yaml";
import { validateConfig } from "../../lib/config/config";
import { portalStackConfig } from "../../lib/release/stackFileEdit";
import { LIVE_TAG, STEADY, stackDirsForSuite, withLines } from "./fixtures";

const CIPHER_1 = "v1:bm9uY2Ux:Y2lwaGVyIG9uZQ==";
const CIPHER_2 = "v1:bm9uY2Uy:Y2lwaGVyIHR3bw==";
/** portal:app.env in the production file (release.env's colors sit one level deeper). */
const APP_ENV = "    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n";
const withSecret = (text: string, cipher: string) => `${text}  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: ${cipher}\n`;
const config = (text: string) => parse(text).config as Record<string, any>;
/** The production file before per-color env: no release.env block. */
const UNPINNED = STEADY.replace(/ {4}# Each color's own env[\s\S]*? {4}live: blue\n/, "    live: blue\n");

describe("release helper: config rolls out like a tag (prepare, reconfigure)", () => {
    const stackWith = stackDirsForSuite();

    it("fixtures: the unpinned variant has no release.env and is valid", () => {
        assert.equal(config(UNPINNED)["portal:release"].env, undefined);
        const { raw, storage } = portalStackConfig(UNPINNED);
        validateConfig(raw, storage);
    });

    it("reconfigure: the live tag and the current app.env and secrets on green, in place; blue untouched", () => {
        const s = stackWith(withSecret(STEADY.replace(APP_ENV, `${APP_ENV}      FEATURE_X: "on"\n`), CIPHER_1));
        const before = s.read();
        const r = s.release(["reconfigure"]);
        assert.equal(r.code, 0, r.stderr);
        const after = config(s.read());
        const release = after["portal:release"];
        assert.deepEqual(release.tags, { blue: LIVE_TAG, green: LIVE_TAG });
        assert.equal(release.passive, "green");
        assert.deepEqual(release.env.blue, { DJANGO_SETTINGS_MODULE: "portal.settings.production" });
        assert.deepEqual(release.env.green, after["portal:app"].env);
        // The ciphertext is copied as it is (never decrypted), for green alone: blue was pinned already.
        assert.deepEqual(after["portal:colorSecrets"], { green: { DATABASE_PASSWORD: { secure: CIPHER_1 } } });
        assert.match(r.stdout, /^note: green gets the live tag 2020\.08\.06-1 with the current app\.env and appSecrets; blue keeps running live with its own$/m);
        assert.match(r.stdout, /^note: green env: \+ FEATURE_X$/m);
        assert.match(r.stdout, /portal:colorSecrets +\(unset\) → \{ green: \{ DATABASE_PASSWORD \} \(encrypted, copied from portal:appSecrets\) \}/);
        assert.ok(!r.stdout.includes(CIPHER_1), "a ciphertext is never printed");
        // Only green's lines and the new colorSecrets line differ.
        const changed = s.read().split("\n").filter((l) => !before.split("\n").includes(l));
        assert.deepEqual(changed, [
            `      green: "${LIVE_TAG}"`,
            '      green: { DJANGO_SETTINGS_MODULE: "portal.settings.production", FEATURE_X: "on" }',
            "    passive: green",
            `  portal:colorSecrets: { green: { DATABASE_PASSWORD: { secure: "${CIPHER_1}" } } }`,
        ]);
        const { raw, storage } = portalStackConfig(s.read());
        assert.deepEqual(storage.encrypted, ["appSecrets.DATABASE_PASSWORD", "colorSecrets.green.DATABASE_PASSWORD"]);
        validateConfig(raw, storage);
    });

    it("a rotated secret: the next prepare replaces the prepared color's copy only, and names it", () => {
        const s = stackWith(withSecret(STEADY, CIPHER_1));
        // The new secret reaches each color in turn: green, then (after its deploy) blue.
        assert.equal(s.release(["reconfigure"]).code, 0);
        assert.equal(s.release(["deploy"]).code, 0);
        const blue = s.release(["reconfigure"]);
        assert.match(blue.stdout, /^note: blue secrets: \+ DATABASE_PASSWORD /m);
        assert.equal(s.release(["deploy"]).code, 0);
        s.write(s.read().replace(`secure: ${CIPHER_1}\n`, `secure: ${CIPHER_2}\n`));
        const r = s.release(["prepare", "2020.08.09-1"]);
        assert.equal(r.code, 0, r.stderr);
        const after = config(s.read());
        assert.deepEqual(after["portal:colorSecrets"], { green: { DATABASE_PASSWORD: { secure: CIPHER_2 } }, blue: { DATABASE_PASSWORD: { secure: CIPHER_1 } } });
        assert.match(r.stdout, /^note: green secrets: ~ DATABASE_PASSWORD \(values stay encrypted; a secret set again counts as changed\)$/m);
        assert.equal(after["portal:release"].tags.green, "2020.08.09-1");
        assert.equal(after["portal:release"].live, "blue");
    });

    it("a stack without release.env: the first prepare pins the live color to the current config too, and says so", () => {
        const s = stackWith(withSecret(UNPINNED, CIPHER_1));
        const r = s.release(["prepare", "2020.08.09-1"]);
        assert.equal(r.code, 0, r.stderr);
        const after = config(s.read());
        const env = { DJANGO_SETTINGS_MODULE: "portal.settings.production" };
        assert.deepEqual(after["portal:release"].env, { blue: env, green: env });
        assert.deepEqual(after["portal:colorSecrets"], { blue: { DATABASE_PASSWORD: { secure: CIPHER_1 } }, green: { DATABASE_PASSWORD: { secure: CIPHER_1 } } });
        assert.match(r.stdout, /^note: blue \(live\) is pinned to the current app\.env and appSecrets, which it must already run/m);
    });

    it("refusals: reconfigure while prepared; secrets encrypted as one value (no names to copy); the file untouched", () => {
        const prepared = withLines(STEADY, { "    passive: blue": "    passive: green" });
        const s = stackWith(prepared);
        const r = s.release(["reconfigure"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^cannot reconfigure: reconfigure needs a steady release and this one is prepared\n/);
        assert.equal(s.read(), prepared);
        const opaque = `${STEADY}  portal:appSecrets:\n    secure: ${CIPHER_1}\n`;
        const t = stackWith(opaque);
        const o = t.release(["reconfigure"]);
        assert.equal(o.code, 1);
        assert.match(o.stderr, /portal:appSecrets must be a map of NAME: secret set one by one \(pulumi config set --secret --path 'portal:appSecrets\.NAME'\), so each color can get its own copy; it is one encrypted value/);
        assert.equal(t.read(), opaque);
    });
});
