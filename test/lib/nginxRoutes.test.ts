import assert from "node:assert/strict";
import { formatPercent, renderLiveRoute, renderPassiveRoute } from "../../lib/nginx/nginxRoutes";

const HEADER = "# Managed by Pulumi (project portal). Edits are overwritten by the next switch.\n";

describe("nginx route rendering", () => {
    it("a live route without canary is a fixed map", () => {
        assert.equal(renderLiveRoute({ color: "green" }), `${HEADER}map $host $portal_live {\n    default portal_green;\n}\n`);
        assert.equal(renderPassiveRoute({ color: "blue" }), `${HEADER}map $host $portal_passive {\n    default portal_blue;\n}\n`);
    });

    it("a per-request canary splits on the request id", () => {
        assert.equal(
            renderLiveRoute({ color: "blue", canary: { color: "green", percent: 0.5, mode: "request", cookie: "portal_client" } }),
            `${HEADER}split_clients "\${request_id}" $portal_live {\n    0.5% portal_green;\n    * portal_blue;\n}\n`,
        );
    });

    it("a sticky canary hashes the cookie, or the client address when there is none", () => {
        assert.equal(
            renderLiveRoute({ color: "blue", canary: { color: "green", percent: 20, mode: "sticky", cookie: "sid" } }),
            `${HEADER}map $cookie_sid $portal_client_key {\n    "" $remote_addr;\n    default $cookie_sid;\n}\n` +
                `split_clients "\${portal_client_key}" $portal_live {\n    20% portal_green;\n    * portal_blue;\n}\n`,
        );
    });

    it("formats shares with at most two decimals, as split_clients reads them", () => {
        assert.equal(formatPercent(0.01), "0.01%");
        assert.equal(formatPercent(5), "5%");
        assert.equal(formatPercent(99.99), "99.99%");
        assert.equal(formatPercent(0.1 + 0.2), "0.3%");
    });
});
