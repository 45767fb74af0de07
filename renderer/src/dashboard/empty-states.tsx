// The dashboard's states that need the user to do something, each saying what.
import { useEffect, useState } from 'preact/hooks';
import type { DoctorReport, GpuInventory } from '../../../daemon/contract/api.js';
import { client } from '../api.js';
import { href } from '../router.js';
import { Copyable } from '../shell/copy.js';
import { errorText } from '../use-action.js';
import { failingChecks } from './doctor-fix.js';

export function NoDeployments() {
  return (
    <div class="empty card">
      <h3>No deployments yet</h3>
      <p>A deployment is a model, the engine that serves it and the GPUs it gets. Berth starts it and puts it behind the endpoint above.</p>
      <p>
        <a class="btn primary" href={href.newDeployment()}>
          New deployment
        </a>
      </p>
      <p class="muted">
        Or from a terminal: <Copyable text="berth deploy qwen Qwen/Qwen2.5-0.5B-Instruct" label="Copy the deploy command" />
      </p>
    </div>
  );
}

export function NoGpu({ inventory }: { inventory: GpuInventory }) {
  return (
    <div class="empty card" role="note">
      <h3>No NVIDIA GPU found</h3>
      <p>{inventory.reason ?? 'nvidia-smi reported no GPU.'}</p>
      <p class="muted">
        What still works: creating and editing deployments with the exact command line they would run, deployments with GPU count 0,
        the OpenAI endpoint, and Settings (set the path to nvidia-smi there if it is not on the daemon’s PATH).
      </p>
    </div>
  );
}

// The doctor imports each engine (seconds, more on a cold cache): ask once per page load.
let report: Promise<DoctorReport> | null = null;

export function DoctorPanel({ containerUsed }: { containerUsed: boolean }) {
  const [state, setState] = useState<{ report: DoctorReport } | { error: string } | null>(null);
  const [again, setAgain] = useState(0);
  useEffect(() => {
    let live = true;
    report ??= client.doctor();
    report.then(
      (r) => live && setState({ report: r }),
      (err: unknown) => {
        report = null;
        if (live) setState({ error: errorText(err) });
      },
    );
    return () => {
      live = false;
    };
  }, [again]);
  if (state === null || 'error' in state) return null;
  const failing = failingChecks(state.report.checks, containerUsed);
  if (failing.length === 0) return null;
  const noEngine = failing.some((c) => c.name === 'vllm') && failing.some((c) => c.name === 'sglang');
  return (
    <section class="card doctor" aria-labelledby="doctor-title">
      <h3 id="doctor-title">{noEngine ? 'No inference engine installed' : 'Some checks failed'}</h3>
      {noEngine && <p>Berth runs vLLM or SGLang from a Python environment; install one of them.</p>}
      <ul>
        {failing.map(({ name, detail, fix }) => (
          <li key={name}>
            <strong>{name}</strong>: {detail}
            {fix && (
              <div class="fix">
                {fix.command && <Copyable text={fix.command} label={`Copy the fix for ${name}`} block />}
                <span class="muted">{fix.note}</span>
              </div>
            )}
          </li>
        ))}
      </ul>
      <button
        type="button"
        class="btn small"
        onClick={() => {
          report = null;
          setAgain((n) => n + 1);
        }}
      >
        Check again
      </button>
    </section>
  );
}
