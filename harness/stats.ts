// Figures from the load generator's samples. Each client sends its next request as soon as
// the previous one ends, so a sample's send time is the previous sample's arrival time for
// the same client (0 for a client's first request): that gives per-request latency and lets
// a switch be judged by when requests were sent, not only by when they came back.

import type { ClientKind, Sample } from "./load";
import { binomialBound } from "./load";

export interface TimedSample extends Sample {
    sentAt: number;
    /** Trimmed body ("green v2"), or "" on failure. */
    label: string;
}

export function withSendTimes(samples: readonly Sample[]): TimedSample[] {
    const last = new Map<number, number>();
    return samples.map((s) => {
        const sentAt = last.get(s.client) ?? 0;
        last.set(s.client, s.at);
        return { ...s, sentAt, label: s.ok ? (s.body ?? "").trim() : "" };
    });
}

export interface PhaseFigures {
    requests: number;
    failures: number;
    failuresByKind: Record<ClientKind, number>;
    requestsByKind: Record<ClientKind, number>;
    errors: Record<string, number>;
    /** Successful responses per body ("blue v1", "green v2", ...). */
    byLabel: Record<string, number>;
    latencyMs: { p50: number; p99: number; max: number };
    /** Requests that took over a second (e.g. a SYN retransmit at a full accept queue). */
    slowerThan1s: number;
    requestsPerSecond: number;
}

function percentile(sorted: number[], q: number): number {
    if (sorted.length === 0) return 0;
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Samples that arrived in [from, to). */
export function phaseFigures(samples: readonly TimedSample[], from: number, to: number): PhaseFigures {
    const f: PhaseFigures = {
        requests: 0,
        failures: 0,
        failuresByKind: { keepalive: 0, fresh: 0 },
        requestsByKind: { keepalive: 0, fresh: 0 },
        errors: {},
        byLabel: {},
        latencyMs: { p50: 0, p99: 0, max: 0 },
        slowerThan1s: 0,
        requestsPerSecond: 0,
    };
    const latencies: number[] = [];
    for (const s of samples) {
        if (s.at < from || s.at >= to) continue;
        f.requests++;
        f.requestsByKind[s.kind]++;
        latencies.push(s.at - s.sentAt);
        if (s.ok) {
            f.byLabel[s.label] = (f.byLabel[s.label] ?? 0) + 1;
        } else {
            f.failures++;
            f.failuresByKind[s.kind]++;
            const key = s.error ?? `HTTP ${s.status}`;
            f.errors[key] = (f.errors[key] ?? 0) + 1;
        }
    }
    latencies.sort((a, b) => a - b);
    f.slowerThan1s = latencies.filter((l) => l > 1000).length;
    f.latencyMs = { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), max: round(latencies[latencies.length - 1] ?? 0) };
    f.requestsPerSecond = to > from ? Math.round((f.requests * 1000) / (to - from)) : 0;
    return f;
}

export interface SwitchFigures {
    /** Wall time of the switch command (spawn to exit). */
    scriptMs: number;
    /** When the route file was renamed into place (inotify), after the switch started. */
    renamedMs: number | null;
    /** Last response from the old color that arrived after the switch started. */
    lastOldMs: number | null;
    /** First response from the new color that arrived after the switch started. */
    firstNewMs: number | null;
    /** Latest send time of a request the old color answered: every request sent later went to the new color. */
    routedAllNewMs: number | null;
    /** Old-color responses to requests sent after the switch command had exited. */
    oldAfterScriptExit: number;
}

/** Times relative to `start` (ms on the load clock); old/new are response bodies ("blue v1", "green v2"). */
export function switchFigures(
    samples: readonly TimedSample[],
    start: number,
    end: number,
    oldLabel: string | null,
    newLabel: string | null,
    renamedAt: number | null,
    until: number,
): SwitchFigures {
    let lastOld: number | null = null;
    let firstNew: number | null = null;
    let lastOldSent: number | null = null;
    let oldAfterExit = 0;
    for (const s of samples) {
        if (!s.ok || s.at < start || s.at >= until) continue;
        if (s.label === oldLabel) {
            lastOld = lastOld === null ? s.at : Math.max(lastOld, s.at);
            lastOldSent = lastOldSent === null ? s.sentAt : Math.max(lastOldSent, s.sentAt);
            if (s.sentAt > end) oldAfterExit++;
        } else if (s.label === newLabel) {
            firstNew = firstNew === null ? s.at : Math.min(firstNew, s.at);
        }
    }
    const rel = (t: number | null) => (t === null ? null : round(t - start));
    return {
        scriptMs: round(end - start),
        renamedMs: rel(renamedAt),
        lastOldMs: rel(lastOld),
        firstNewMs: rel(firstNew),
        routedAllNewMs: rel(lastOldSent),
        oldAfterScriptExit: oldAfterExit,
    };
}

export interface CanaryFigures {
    askedPercent: number;
    /** Responses counted: successful, sent in the window. */
    n: number;
    canary: number;
    measuredPercent: number;
    expected: number;
    deviation: number;
    /** 3 sigma: 3 * sqrt(n p (1 - p)). */
    bound3Sigma: number;
    /** |deviation| / sigma. */
    sigmas: number;
    within3Sigma: boolean;
}

/** Canary share among successful responses to requests sent in [from, to); the canary is recognised by the body's first word. */
export function canaryFigures(samples: readonly TimedSample[], from: number, to: number, canaryColor: string, askedPercent: number): CanaryFigures {
    let n = 0;
    let canary = 0;
    for (const s of samples) {
        if (!s.ok || s.sentAt < from || s.sentAt >= to) continue;
        n++;
        if (s.color === canaryColor) canary++;
    }
    const p = askedPercent / 100;
    const expected = n * p;
    const sigma = binomialBound(n, p, 1);
    const bound = binomialBound(n, p, 3);
    return {
        askedPercent,
        n,
        canary,
        measuredPercent: n > 0 ? round((canary * 100) / n, 4) : 0,
        expected: round(expected, 1),
        deviation: round(canary - expected, 1),
        bound3Sigma: round(bound, 1),
        sigmas: sigma > 0 ? round(Math.abs(canary - expected) / sigma, 2) : 0,
        within3Sigma: Math.abs(canary - expected) <= bound,
    };
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 1): number {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}
