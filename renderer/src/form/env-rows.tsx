// The engine's environment as key/value rows. Values of keys that look secret
// (TOKEN, KEY, SECRET, PASSWORD) are masked until revealed, row by row.
import { useState } from 'preact/hooks';
import { isSecretKey, type EnvRow } from './form-model.js';

export function EnvRows({ rows, onChange, error }: { rows: EnvRow[]; onChange: (rows: EnvRow[]) => void; error?: string | undefined }) {
  const [revealed, setRevealed] = useState<Set<number>>(new Set());
  const set = (i: number, patch: Partial<EnvRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const remove = (i: number) => {
    onChange(rows.filter((_, j) => j !== i));
    setRevealed(new Set());
  };
  const toggle = (i: number) =>
    setRevealed((s) => {
      const n = new Set(s);
      if (n.has(i)) n.delete(i);
      else n.add(i);
      return n;
    });
  return (
    <fieldset class="field wide env" aria-describedby={error ? 'env-error' : undefined}>
      <legend>Environment</legend>
      {rows.length === 0 && <small class="hint">Variables the engine process gets, e.g. HF_TOKEN for gated models.</small>}
      {rows.map((row, i) => {
        const secret = isSecretKey(row.key);
        const shown = !secret || revealed.has(i);
        const n = i + 1;
        const valueProps = {
          'aria-label': `Variable ${n} value`,
          class: 'mono',
          value: row.value,
          placeholder: 'value',
          spellcheck: false,
          autocomplete: 'off',
          onInput: (e: { currentTarget: HTMLInputElement }) => set(i, { value: e.currentTarget.value }),
        };
        return (
          <div class="env-row" key={i}>
            <input
              aria-label={`Variable ${n} name`}
              class="mono"
              value={row.key}
              placeholder="NAME"
              spellcheck={false}
              autocomplete="off"
              onInput={(e) => set(i, { key: e.currentTarget.value })}
            />
            {shown ? (
              <input {...valueProps} type="text" />
            ) : (
              <input {...valueProps} type="password" />
            )}
            {secret && (
              <button type="button" class="btn small" aria-pressed={shown} aria-label={`${shown ? 'Hide' : 'Show'} value of variable ${n}`} onClick={() => toggle(i)}>
                {shown ? 'Hide' : 'Show'}
              </button>
            )}
            <button type="button" class="btn small" aria-label={`Remove variable ${n}`} onClick={() => remove(i)}>
              Remove
            </button>
          </div>
        );
      })}
      <div>
        <button type="button" class="btn small" onClick={() => onChange([...rows, { key: '', value: '' }])}>
          Add variable
        </button>
      </div>
      {error && (
        <small id="env-error" class="error">
          {error}
        </small>
      )}
    </fieldset>
  );
}
