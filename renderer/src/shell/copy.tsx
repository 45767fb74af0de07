// Copy a piece of text, with the text itself shown (selectable) beside the button.
import { useEffect, useRef, useState } from 'preact/hooks';

// The Clipboard API needs a secure context: a page opened over plain http on
// a LAN address is not one, so fall back to a selection and execCommand.
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through */
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = async () => {
    setState((await copyText(text)) ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 1500);
  };
  return (
    <button type="button" class="btn small" aria-label={label} onClick={onClick}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy'}
    </button>
  );
}

/** A command or URL in monospace with its copy button. */
export function Copyable({ text, label, block = false }: { text: string; label: string; block?: boolean }) {
  return (
    <span class={block ? 'copyable block' : 'copyable'}>
      <code>{text}</code>
      <CopyButton text={text} label={label} />
    </span>
  );
}
