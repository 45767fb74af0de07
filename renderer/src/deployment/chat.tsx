// The chat playground: try a model the moment it is ready. Streams through
// the gateway like any OpenAI client would, so what works here works there.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DeploymentStatus } from '../../../daemon/contract/api.js';
import { streamChat, type ChatMessage } from './chat-request.js';
import { turnMetrics, type TurnMetrics } from './chat-stream.js';

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  reasoning?: string;
  /** Assistant turns only. */
  status?: 'streaming' | 'done' | 'stopped' | 'cut' | 'error';
  error?: string;
  metrics?: TurnMetrics;
  model?: string;
}

export interface ChatPlaygroundProps {
  deployment: DeploymentStatus;
}

function describeMetrics(m: TurnMetrics): string {
  const parts: string[] = [];
  if (m.ttftMs !== null) parts.push(`TTFT ${Math.round(m.ttftMs)} ms`);
  if (m.tokensPerS !== null) parts.push(`${m.tokensPerS.toFixed(1)} tokens/s`);
  parts.push(`${m.estimated ? '~' : ''}${m.tokens} tokens`);
  return parts.join(' · ');
}

/** What the model sees: the conversation so far, without answers that never came. */
function history(turns: Turn[]): ChatMessage[] {
  return turns.filter((t) => t.role === 'user' || t.content !== '').map((t) => ({ role: t.role, content: t.content }));
}

export function ChatPlayground({ deployment }: ChatPlaygroundProps) {
  const names = deployment.spec.servedName;
  const [model, setModel] = useState(names[0] ?? deployment.name);
  const [draft, setDraft] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const log = useRef<HTMLOListElement>(null);

  // A served name removed by an edit is no longer a choice.
  useEffect(() => {
    if (!names.includes(model) && names[0]) setModel(names[0]);
  }, [names.join('\n')]);

  // Leaving the page stops the answer being generated for no one.
  useEffect(() => () => abort.current?.abort(), []);

  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [turns]);

  const stopped = deployment.desired === 'stopped';

  async function send(e?: Event) {
    e?.preventDefault();
    const text = draft.trim();
    if (!text || busy) return;
    const ctl = new AbortController();
    abort.current = ctl;
    const asked: Turn[] = [...turns, { role: 'user', content: text }];
    const messages = history(asked);
    setTurns([...asked, { role: 'assistant', content: '', status: 'streaming', model }]);
    setDraft('');
    setBusy(true);

    const update = (patch: (t: Turn) => Turn) =>
      setTurns((all) => {
        const last = all.at(-1);
        return last && last.role === 'assistant' ? [...all.slice(0, -1), patch(last)] : all;
      });
    const sentAt = performance.now();
    let firstTokenAt: number | null = null;
    let completionTokens: number | null = null;
    let deltas = 0;
    const outcome = await streamChat({
      model,
      messages,
      signal: ctl.signal,
      onItem: (item) => {
        if (item.kind === 'content' || item.kind === 'reasoning') {
          firstTokenAt ??= performance.now();
          deltas++;
          const text = item.text;
          if (item.kind === 'content') update((t) => ({ ...t, content: t.content + text }));
          else update((t) => ({ ...t, reasoning: (t.reasoning ?? '') + text }));
        } else if (item.kind === 'usage') {
          completionTokens = item.completionTokens;
        }
      },
    });
    const metrics = turnMetrics({ sentAt, firstTokenAt, endedAt: performance.now(), completionTokens, deltas });
    update((t) => ({
      ...t,
      status: outcome.kind,
      error: outcome.kind === 'error' ? outcome.message : undefined,
      metrics: firstTokenAt === null ? undefined : metrics,
    }));
    abort.current = null;
    setBusy(false);
  }

  function stop() {
    abort.current?.abort();
  }

  function clear() {
    abort.current?.abort();
    setTurns([]);
  }

  return (
    <div class="dp-chat">
      {stopped ? (
        <p class="dp-note" role="status">
          This deployment is stopped: start it to chat with it.
        </p>
      ) : deployment.sleeping ? (
        <p class="dp-note" role="status">
          This deployment is asleep: the first message wakes it, which takes as long as loading the model.
        </p>
      ) : null}
      <ol class="dp-chat-log" ref={log} aria-label="Conversation" aria-live="polite">
        {turns.length === 0 ? <li class="dp-chat-empty">No messages yet. Ask something to try the model.</li> : null}
        {turns.map((t, i) => (
          <li key={i} class={`dp-turn dp-turn-${t.role}`} aria-busy={t.status === 'streaming'}>
            <div class="dp-turn-who">{t.role === 'user' ? 'You' : (t.model ?? 'model')}</div>
            {t.reasoning ? (
              <details class="dp-turn-reasoning">
                <summary>Reasoning</summary>
                <p>{t.reasoning}</p>
              </details>
            ) : null}
            <div class="dp-turn-text">{t.content || (t.status === 'streaming' ? '…' : '')}</div>
            {t.role === 'assistant' && t.status !== 'streaming' ? (
              <div class="dp-turn-meta">
                {t.status === 'stopped' ? <span class="dp-warn-text">Stopped. </span> : null}
                {t.status === 'cut' ? <span class="dp-warn-text">The stream ended before the answer did. </span> : null}
                {t.status === 'error' ? (
                  <span class="dp-err-text" role="alert">
                    {t.error}{' '}
                  </span>
                ) : null}
                {t.metrics ? describeMetrics(t.metrics) : null}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      <form class="dp-chat-form" onSubmit={send}>
        <div class="dp-chat-row">
          <label class="dp-field">
            <span>Model</span>
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)} disabled={busy}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label class="dp-field dp-chat-message">
          <span>Message</span>
          <textarea
            value={draft}
            rows={3}
            placeholder="Ask something… (Enter sends, Shift+Enter for a new line)"
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                void send();
              }
            }}
          />
        </label>
        <div class="dp-chat-row dp-buttons">
          <button type="submit" class="dp-primary" disabled={busy || stopped || draft.trim() === ''}>
            Send
          </button>
          <button type="button" onClick={stop} disabled={!busy}>
            Stop generating
          </button>
          <button type="button" onClick={clear} disabled={turns.length === 0}>
            Clear
          </button>
        </div>
      </form>
    </div>
  );
}
