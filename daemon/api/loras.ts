// /api/v1/deployments/:name/loras: a deployment's LoRA adapters. Handlers only
// translate HTTP; supervisor/loras.ts decides (load now, or restart).
import { DNS_LABEL } from '../contract/deployment.js';
import { api } from '../contract/routes.js';
import { badRequest, notFound } from '../http/errors.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import type { On } from './mount.js';

function deploymentName(params: { name: string }): string {
  if (!DNS_LABEL.test(params.name)) throw notFound(`deployment ${params.name} does not exist`, 'deployment_not_found');
  return params.name;
}

export function mountLoras(on: On, sup: Supervisor): void {
  on(api.deploymentLoras, ({ params }) => sup.loras.list(deploymentName(params)));
  on(api.addLora, ({ params, body }) => {
    if (body === undefined) throw badRequest('expected a JSON body {name, path} (Content-Type: application/json)');
    return sup.loras.add(deploymentName(params), body);
  });
  on(api.removeLora, ({ params }) => sup.loras.remove(deploymentName(params), params.adapter));
}
