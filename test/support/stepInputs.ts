// The whole inputs the program gives one of web1's steps in the production stack, for tests
// that compare declared resources in full (components/target.ts: triggers = command line +
// stdin hash + the step's own, a no-op update, stderr logged).
import { createHash } from "node:crypto";

/** How the mock runtime renders a secret value (the ssh connection is one). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const secret = (value: unknown) => ({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value });
/** web1's ssh connection in the production stack. */
export const WEB1 = secret({ dialErrorLimit: 10, host: "10.0.0.11", perDialTimeout: 15, port: 22, user: "deploy" });
/** switch-route.sh with the production stack's nginx settings. */
export const SWITCH = (file: string) =>
    `bash /srv/portal/scripts/switch-route.sh /etc/nginx/portal/${file} 'sudo nginx -t' 'sudo nginx -s reload' /run/nginx.pid /var/log/nginx/error.log 30`;

const sha = (text: string) => `stdin sha256 ${createHash("sha256").update(text).digest("hex")}`;

/** A step's whole inputs on web1. */
export const step = (create: string, stdin?: string, more: unknown[] = []) => ({
    addPreviousOutputInEnv: false,
    connection: WEB1,
    create,
    update: "true",
    logging: "stderr",
    ...(stdin === undefined ? {} : { stdin }),
    triggers: [create, ...(stdin === undefined ? [] : [sha(stdin)]), ...more],
});
