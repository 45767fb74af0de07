// The deployments that exist, by name. A deleted deployment leaves at once,
// even while its engines are still stopping: it no longer routes, lists or
// accepts requests, and its name is free for a new deployment (whose ops
// queue behind the delete; see op-queue.ts).
import { notFound } from '../http/errors.js';
import type { DeploymentRuntime } from './deployment.js';

export class DeploymentRegistry {
  private readonly byName = new Map<string, DeploymentRuntime>();

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): DeploymentRuntime | undefined {
    return this.byName.get(name);
  }

  /** The deployment, or a 404 naming it. */
  runtime(name: string): DeploymentRuntime {
    const c = this.byName.get(name);
    if (!c) throw notFound(`deployment ${name} does not exist`, 'deployment_not_found');
    return c;
  }

  all(): IterableIterator<DeploymentRuntime> {
    return this.byName.values();
  }

  add(c: DeploymentRuntime): void {
    this.byName.set(c.name, c);
  }

  /** Removes `c`, and only `c`: a newer deployment of the same name stays. */
  delete(c: DeploymentRuntime): void {
    if (this.byName.get(c.name) === c) this.byName.delete(c.name);
  }
}
