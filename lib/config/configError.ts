// Collects every problem found in a stack's config, then fails once with all of them.

export interface Problem {
    /** The full config key, e.g. `portal:release.live`. */
    key: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(readonly problems: Problem[], heading = "") {
        super(heading + problems.map((p) => `${p.key} ${p.message}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** `inner` is `outer` or a key below it (`app.hostPorts.blue` is below `app`). */
function within(inner: string, outer: string): boolean {
    return inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
}

/**
 * One wrong value gives one message: a problem below a key already refused is dropped
 * (a list where a map is expected is not also "missing" each of its keys), and checks
 * that combine several values (clashes, counts, cross-references) ask `clean` first, so
 * they never reason on the placeholder a refused value left behind.
 */
export class Problems {
    private readonly list: Problem[] = [];
    private readonly paths: string[] = [];

    add(path: string, message: string): void {
        if (this.paths.some((refused) => within(path, refused) && path !== refused)) return;
        this.paths.push(path);
        this.list.push({ key: `portal:${path}`, message });
    }

    /** No problem was found at, above or below any of these keys. */
    clean(...paths: string[]): boolean {
        return paths.every((path) => !this.paths.some((refused) => within(refused, path) || within(path, refused)));
    }

    get count(): number {
        return this.list.length;
    }

    throwIfAny(): void {
        if (this.list.length > 0) {
            throw new ConfigError(this.list);
        }
    }
}
