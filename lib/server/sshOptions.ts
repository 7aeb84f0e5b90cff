// The ssh options of the docker provider's transport. kreuzwerker/terraform-provider-docker@v4.2.0
// internal/provider/config.go: an ssh:// host goes through docker/cli's connhelper, which
// runs the operator's `ssh` binary with these options (no shell) and `docker system
// dial-stdio`; so host keys are checked by OpenSSH against the operator's known_hosts.
// BatchMode=yes: never prompt (an unknown key fails instead of hanging the preview).
// With a pinned `hostKey` the key comes from the config alone: no known_hosts file is read
// and KnownHostsCommand (OpenSSH >= 8.5) prints the pinned key for the host being checked
// (%H is the host as known_hosts names it, `[host]:port` off port 22), and
// StrictHostKeyChecking=yes refuses any other key. The key matched patterns.SSH_HOST_KEY
// (type and base64 only), so it is one plain word pair.

export function dockerSshOpts(hostKey?: string): string[] {
    const opts = ["-o", "BatchMode=yes"];
    if (hostKey === undefined) return opts;
    return [
        ...opts,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        `KnownHostsCommand=/bin/echo %H ${hostKey}`,
    ];
}
