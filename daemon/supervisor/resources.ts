// Who holds which GPU and engine port. Reservations are made synchronously
// before a replica launches, so two concurrent starts can never pick the same
// GPU or port.
import type { Gpu } from '../contract/api.js';
import { allocateGpus, type GpuRequest } from '../scheduler/gpus.js';
import { pickPort, type PortProbe } from '../scheduler/ports.js';
import { HttpError } from '../http/errors.js';

export interface Reservation {
  deployment: string;
  replica: string;
  gpus: number[];
  port: number;
}

export class AllocationError extends HttpError {
  constructor(
    message: string,
    readonly needed: number,
    readonly free: number,
    readonly heldBy: { deployment: string; gpus: number[] }[],
  ) {
    super(409, 'insufficient_gpus', message, 'resource.gpu.count');
  }
}

export class ResourceLedger {
  private byReplica = new Map<string, Reservation>();

  constructor(
    private readonly portBase: number,
    private readonly isPortFree: PortProbe,
  ) {}

  gpuHolders(): Map<number, string> {
    const held = new Map<number, string>();
    for (const r of this.byReplica.values()) for (const g of r.gpus) held.set(g, r.deployment);
    return held;
  }

  reservations(): Reservation[] {
    return [...this.byReplica.values()];
  }

  /** Reserves GPUs and a port, or throws a 409 naming what is needed, free and held by whom. */
  async reserve(deployment: string, replica: string, gpus: readonly Gpu[], req: GpuRequest, inventoryReason: string | null): Promise<Reservation> {
    const alloc = allocateGpus(gpus, this.gpuHolders(), req);
    if (!alloc.ok) {
      const why = inventoryReason && gpus.length === 0 ? `${alloc.message} (${inventoryReason})` : alloc.message;
      throw new AllocationError(`${deployment} ${why}`, alloc.needed, alloc.free, alloc.heldBy);
    }
    // Hold the GPUs while we look for a port: another start may run meanwhile.
    const placeholder: Reservation = { deployment, replica, gpus: alloc.gpus, port: -1 };
    this.byReplica.set(replica, placeholder);
    try {
      const used = new Set([...this.byReplica.values()].map((r) => r.port));
      placeholder.port = await pickPort(this.portBase, used, this.isPortFree);
    } catch (err) {
      this.byReplica.delete(replica);
      throw err;
    }
    return placeholder;
  }

  release(replica: string): void {
    this.byReplica.delete(replica);
  }
}
