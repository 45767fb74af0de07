// The exact command the daemon would run for the form as it stands, from
// POST /api/v1/plan (the daemon's own planner, not a guess made here).
import type { LaunchPlan } from '../../../daemon/contract/api.js';
import { backendLabel, shellLine } from '../format.js';
import { Copyable } from '../shell/copy.js';
import { isSecretKey } from './form-model.js';

export type PlanView =
  /** Nothing to ask yet, or the daemon refused a field; `last` is the previous plan, shown faded. */
  | { kind: 'idle'; why: string; last: LaunchPlan | null }
  | { kind: 'loading'; last: LaunchPlan | null }
  | { kind: 'ready'; plan: LaunchPlan }
  | { kind: 'error'; message: string; last: LaunchPlan | null };

export const lastPlan = (v: PlanView): LaunchPlan | null => (v.kind === 'ready' ? v.plan : v.last);

export function PlanPreview({ view }: { view: PlanView }) {
  const plan = lastPlan(view);
  const stale = view.kind !== 'ready';
  return (
    <section class="card plan" aria-labelledby="plan-title" aria-busy={view.kind === 'loading'}>
      <h2 id="plan-title">Command line</h2>
      {view.kind === 'idle' && <p class="muted">{view.why}</p>}
      {view.kind === 'loading' && !plan && <p class="muted">Asking the daemon…</p>}
      {view.kind === 'error' && (
        <p class="error" role="alert">
          {view.message}
        </p>
      )}
      {plan && (
        <>
          <div class={stale ? 'stale' : undefined}>
            <Copyable text={shellLine(plan.argv)} label="Copy the command line" block />
            <dl class="plan-facts">
              <div>
                <dt>Recipe</dt>
                <dd>
                  {backendLabel(plan.backend)} {plan.recipeVersion}
                  {plan.recipeVersion !== plan.backendVersion && ` (for ${plan.backendVersion})`}
                </dd>
              </div>
              <div>
                <dt>GPUs</dt>
                <dd>{plan.gpus.length ? plan.gpus.join(', ') : 'none'}</dd>
              </div>
              <div>
                <dt>Port</dt>
                <dd>{plan.port}</dd>
              </div>
              <div>
                <dt>Ready when</dt>
                <dd>
                  {[plan.readiness.http && `GET ${plan.readiness.http.path} answers ${plan.readiness.http.status}`, plan.readiness.logLine && `the log says “${plan.readiness.logLine}”`]
                    .filter(Boolean)
                    .join(', or ')}
                </dd>
              </div>
            </dl>
          </div>
          {Object.keys(plan.env).length > 0 && (
            <details>
              <summary>Environment ({Object.keys(plan.env).length})</summary>
              <pre class="mono">
                {Object.entries(plan.env)
                  .map(([k, v]) => `${k}=${isSecretKey(k) ? '••••••' : v}`)
                  .join('\n')}
              </pre>
            </details>
          )}
          {plan.warnings.length > 0 && (
            <ul class="warnings" aria-label="Plan warnings">
              {plan.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
