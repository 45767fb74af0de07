// Stub: the deployment page (logs, charts, chat, timeline) is built in its own
// branch; this keeps the shell's route and the props it passes in place.
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import type { Client } from '../../../daemon/contract/client.js';
import type { GpuShare, LiveStats, StreamEvent } from '../../../daemon/contract/live.js';

export interface DeploymentPageProps {
  name: string;
  deployment: DeploymentStatus | undefined;
  notices: StreamEvent[];
  stats: LiveStats | undefined;
  gpuShares: GpuShare[];
  client: Client;
}

export function DeploymentPage(props: DeploymentPageProps) {
  return (
    <section>
      <h1>{props.name}</h1>
      <p>{props.deployment ? props.deployment.state : 'No such deployment.'}</p>
    </section>
  );
}
