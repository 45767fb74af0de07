// The daemon's state on disk: deployments with their desired state, and the
// engine processes it started (pid + start time) so the next daemon can reap
// them. Writes are serialised and atomic; a corrupt file is moved aside and
// reported, never silently replaced.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { deploymentInputSchema, type Deployment } from '../contract/deployment.js';
import type { DesiredState } from '../contract/api.js';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';

const storedDeployment = z.object({
  spec: deploymentInputSchema.extend({ servedName: z.array(z.string()).min(1), backendVersion: z.string() }),
  desired: z.enum(['running', 'stopped']),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type StoredDeployment = { spec: Deployment; desired: DesiredState; createdAt: string; updatedAt: string };

const deploymentsFile = z.object({ version: z.literal(1), deployments: z.array(storedDeployment) });

const processRecord = z.object({
  deployment: z.string(),
  replica: z.string(),
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
  port: z.number().int().nullable(),
  gpus: z.array(z.number().int()),
});
export type ProcessRecord = z.output<typeof processRecord>;
const processesFile = z.object({ version: z.literal(1), processes: z.array(processRecord) });

export class StateStore {
  readonly deploymentsPath: string;
  readonly processesPath: string;
  private chain: Promise<void> = Promise.resolve();
  private deployments = new Map<string, StoredDeployment>();
  private processes = new Map<string, ProcessRecord>();

  constructor(readonly home: string) {
    this.deploymentsPath = join(home, 'deployments.json');
    this.processesPath = join(home, 'processes.json');
  }

  /** Loads both files. Returns warnings for files that had to be set aside. */
  async load(): Promise<string[]> {
    const warnings: string[] = [];
    const deps = await this.loadFile(this.deploymentsPath, deploymentsFile, warnings);
    for (const d of deps?.deployments ?? []) this.deployments.set(d.spec.name, d as StoredDeployment);
    const procs = await this.loadFile(this.processesPath, processesFile, warnings);
    for (const p of procs?.processes ?? []) this.processes.set(p.replica, p);
    return warnings;
  }

  private async loadFile<T extends z.ZodTypeAny>(file: string, schema: T, warnings: string[]): Promise<z.output<T> | undefined> {
    let raw: unknown;
    try {
      raw = await readJsonFile(file);
    } catch {
      raw = Symbol('unparseable');
    }
    if (raw === undefined) return undefined;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data as z.output<T>;
    const aside = `${file}.corrupt-${Date.now()}`;
    await rename(file, aside).catch(() => undefined);
    warnings.push(`${file} was not valid and was moved to ${aside}`);
    return undefined;
  }

  listDeployments(): StoredDeployment[] {
    return [...this.deployments.values()];
  }

  getDeployment(name: string): StoredDeployment | undefined {
    return this.deployments.get(name);
  }

  async putDeployment(d: StoredDeployment): Promise<void> {
    this.deployments.set(d.spec.name, d);
    await this.flushDeployments();
  }

  async deleteDeployment(name: string): Promise<void> {
    this.deployments.delete(name);
    await this.flushDeployments();
  }

  listProcesses(): ProcessRecord[] {
    return [...this.processes.values()];
  }

  async recordProcess(p: ProcessRecord): Promise<void> {
    this.processes.set(p.replica, p);
    await this.flushProcesses();
  }

  async forgetProcess(replica: string): Promise<void> {
    if (!this.processes.delete(replica)) return;
    await this.flushProcesses();
  }

  private flushDeployments(): Promise<void> {
    return this.serial(() =>
      writeFileAtomic(
        this.deploymentsPath,
        JSON.stringify({ version: 1, deployments: this.listDeployments() }, null, 2) + '\n',
      ),
    );
  }

  private flushProcesses(): Promise<void> {
    return this.serial(() =>
      writeFileAtomic(this.processesPath, JSON.stringify({ version: 1, processes: this.listProcesses() }, null, 2) + '\n'),
    );
  }

  /** Resolves once every write issued so far is on disk. */
  idle(): Promise<void> {
    return this.chain;
  }

  // Each write snapshots the in-memory state when it runs, so the last write
  // always carries the latest state even when calls overlap.
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
