// What every docker.Container of the plan carries, so that the real provider and engine
// keep the rollout's promises (each rule cited where it comes from; re-check on an upgrade):
//
// - mustRun: false. kreuzwerker/terraform-provider-docker@v3.9.0 (pulumi-docker 4.11.2)
//   internal/provider/resource_docker_container_funcs.go resourceDockerContainerRead: a
//   stopped container with must_run (default true) was *deleted* by `pulumi refresh`,
//   bypassing protect. @v4.2.0 (pulumi-docker 5.0.0, pinned) the read instead sets must_run
//   false in state, which turns the next `up` into an update that starts it. With
//   mustRun false the read leaves a stopped or crash-looping container alone: the restart
//   policy and the health waits deal with it, not a refresh.
// - destroyGraceSeconds: @v4.2.0 resourceDockerContainerDelete stops with
//   `timeout = destroy_grace_seconds` (0 when unset: SIGKILL at once) before removing.
// - removeVolumes: false. @v4.2.0 resource_docker_container.go: remove_volumes defaults to
//   true (anonymous volumes go with the container); a replaced color keeps them.
//   mustRun, destroyGraceSeconds and removeVolumes are not ForceNew there: adding them to
//   existing containers is an in-place update of state, not a replace.
// - No logDriver / logOpts: both are ForceNew (@v4.2.0 resource_docker_container.go). @v4.2.0
//   containerLogOptsForState stores log_opts in state only when the config sets them, so the
//   daemon's default log-opts (/etc/docker/daemon.json) no longer replace every container
//   on each preview (kreuzwerker#888, fixed in v4.1.0; @v3.9.0 the read stored them always).
// - deleteBeforeReplace: a container has a fixed name (portal-blue) and host port, so a
//   create-before-delete replace would fail with a name conflict. pulumi-docker@v5.0.0
//   provider/resources.go already asks for it (docker_container DeleteBeforeReplace: true);
//   the option makes it explicit, since the option wins over the provider's answer
//   (pulumi@v3.248.0 pkg/resource/deploy/step_generator.go: `if goal.DeleteBeforeReplace != nil`).

/** The container inputs every container gets (docker.Container's mustRun, destroyGraceSeconds, removeVolumes). */
export interface ContainerPolicy {
    mustRun: false;
    destroyGraceSeconds: number;
    removeVolumes: false;
}

/** The container inputs every container gets; `graceSeconds` from the config. */
export function containerPolicy(graceSeconds: number): ContainerPolicy {
    return { mustRun: false, destroyGraceSeconds: graceSeconds, removeVolumes: false };
}

/** The resource option every container gets (besides its parent, provider, dependsOn and protect). */
export const CONTAINER_OPTIONS = { deleteBeforeReplace: true } as const;
