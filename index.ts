// Entry point of the Pulumi program (see program.ts). Bad config stops it before any
// resource is declared, with a message naming every bad key.

import { portalProgram } from "./program";

const outputs = portalProgram();

export const stage = outputs.stage;
export const servers = outputs.servers;
/** Other tracks (side-by-side generations); absent from a single-track stack's outputs. */
export const tracks = Object.keys(outputs.tracks).length > 0 ? outputs.tracks : undefined;
