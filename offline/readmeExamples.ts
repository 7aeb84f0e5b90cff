// The README's preview examples, generated: the operator walk-through run with the real
// release helper on a copy of the committed Pulumi.production.yaml, each step previewed
// with the offline engine model (`npm run plan -- --compare <before> --brief`). Each
// example sits between `<!-- preview:<name> -->` and `<!-- /preview:<name> -->` in the
// README; `npm run docs:previews` rewrites them and test/plan/readmeExamples.test.ts
// fails when they drift.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { previewFrom } from "../bin/plan";
import { runRelease } from "../bin/release";
import { cliSummaryBlock, renderPreview, type EnginePreview } from "./engine";

const ROOT = path.resolve(__dirname, "..");
const STACK = "production";

interface Example {
    name: string;
    /** What the README says was done, for the block's first line. */
    title: string;
    preview?: EnginePreview;
    /** The program's own refusal (the live guard), which `pulumi preview` prints as its error. */
    refusal?: string;
}

function render(e: Example): string {
    if (e.preview === undefined) return [`# ${e.title}`, "# refused before any resource is declared; pulumi preview fails with:", ...(e.refusal ?? "").split("\n").map((l) => `error: ${l}`)].join("\n");
    const lines = renderPreview(e.preview, true).map((l) => l.replace(/^ {2}/, ""));
    const cli = cliSummaryBlock(e.preview.counts);
    return [`# ${e.title}`, ...lines, "# the Pulumi CLI prints the summary as:", ...cli.map((l) => `# ${l}`)].join("\n");
}

/** Runs the walk-through and previews each step; the stack files stay in a temp directory. */
export async function readmeExamples(): Promise<Record<string, string>> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-readme-"));
    const file = path.join(dir, `Pulumi.${STACK}.yaml`);
    const snapshots: string[] = [];
    const snapshot = () => {
        const copy = path.join(dir, `state-${snapshots.length}.yaml`);
        fs.copyFileSync(file, copy);
        snapshots.push(copy);
        return copy;
    };
    const release = (...argv: string[]) => {
        const r = runRelease([...argv, "-s", STACK], dir);
        if (r.code !== 0) throw new Error(`release ${argv.join(" ")}: ${r.stderr}`);
    };
    try {
        fs.copyFileSync(path.join(ROOT, `Pulumi.${STACK}.yaml`), file);
        const examples: Example[] = [];
        const step = async (name: string, title: string, change: () => void) => {
            const before = snapshot();
            change();
            try {
                examples.push({ name, title, preview: await previewFrom(before, file) });
            } catch (e) {
                if (!pulumi.RunError.isInstance(e)) throw e;
                examples.push({ name, title, refusal: e.message });
            }
        };
        release("abort");
        await step("prepare", `npm run release -- prepare 2020.08.08-1 -s ${STACK}   (from steady on blue)`, () => release("prepare", "2020.08.08-1"));
        await step("canary", `npm run release -- canary 5 -s ${STACK}`, () => release("canary", "5"));
        await step("deploy", `npm run release -- deploy -s ${STACK}`, () => release("deploy"));
        await step("rollback", `npm run release -- rollback -s ${STACK}`, () => release("rollback"));
        const edit = (from: string, to: string) => {
            const text = fs.readFileSync(file, "utf8");
            if (!text.includes(from)) throw new Error(`the walk-through's stack file has no ${JSON.stringify(from)}`);
            fs.writeFileSync(file, text.replace(from, to));
        };
        // What `pulumi config set --secret --path 'portal:appSecrets.DATABASE_PASSWORD'` writes (a stand-in ciphertext).
        const setSecret = (ciphertext: string) => {
            const text = fs.readFileSync(file, "utf8").replace(/\n {2}portal:appSecrets:\n(?: {4}.*\n)*/, "\n");
            fs.writeFileSync(file, `${text}  portal:appSecrets:\n    DATABASE_PASSWORD:\n      secure: ${ciphertext}\n`);
        };
        await step("guard", `portal:release.env.blue gains FEATURE_X: "on" by hand (steady on blue)`, () =>
            edit("      blue:\n        DJANGO_SETTINGS_MODULE: portal.settings.production\n", '      blue:\n        DJANGO_SETTINGS_MODULE: portal.settings.production\n        FEATURE_X: "on"\n'),
        );
        fs.copyFileSync(snapshots[snapshots.length - 1], file);
        await step("env", `portal:app.env gains FEATURE_X: "on", then npm run release -- reconfigure -s ${STACK}   (steady on blue)`, () => {
            edit("    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n", '    env:\n      DJANGO_SETTINGS_MODULE: portal.settings.production\n      FEATURE_X: "on"\n');
            release("reconfigure");
        });
        release("deploy");
        // The password is set, and each color prepared with it in turn (green live again).
        setSecret("v1:c2FsdA==:Zmlyc3QgdmFsdWU=");
        for (let i = 0; i < 2; i++) {
            release("reconfigure");
            release("deploy");
        }
        await step("secret", `pulumi config set --secret --path 'portal:appSecrets.DATABASE_PASSWORD' -s ${STACK}, then npm run release -- reconfigure -s ${STACK}   (steady on green)`, () => {
            setSecret("v1:bm9uY2U=:bmV3IHZhbHVl");
            release("reconfigure");
        });
        return Object.fromEntries(examples.map((e) => [e.name, render(e)]));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const BLOCK = /(<!-- preview:([a-z]+) -->\n)[\s\S]*?(<!-- \/preview:\2 -->)/g;

/** The README text with each example block replaced by its generated text. */
export function withExamples(readme: string, examples: Record<string, string>): string {
    return readme.replace(BLOCK, (_, open: string, name: string, close: string) => {
        const text = examples[name];
        if (text === undefined) throw new Error(`README has a preview block "${name}" the generator does not make`);
        return `${open}\`\`\`\n${text}\n\`\`\`\n${close}`;
    });
}

if (require.main === module) {
    void readmeExamples().then((examples) => {
        const file = path.join(ROOT, "README.md");
        const text = fs.readFileSync(file, "utf8");
        const next = withExamples(text, examples);
        fs.writeFileSync(file, next);
        process.stdout.write(next === text ? "README previews up to date\n" : "README previews rewritten\n");
    });
}
