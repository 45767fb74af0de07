// Splits the string of a container's `sh -c "..."` into commands and words the
// way a POSIX shell would for the plain cases manifests use: quotes,
// backslashes, comments, `$VAR` from the container's env, and the operators
// that chain commands (`&&`, `;`, `|`...). Command substitution and globbing
// are not run: such a string is refused by the caller, never half-understood.

export type ShellResult =
  | { ok: true; commands: string[][] }
  | { ok: false; message: string };

const OPERATORS = ['&&', '||', ';;', ';', '&', '|', '>>', '>', '<', '(', ')'];

export function splitShell(text: string, env: (name: string) => string | undefined): ShellResult {
  const commands: string[][] = [[]];
  let word: string | null = null;
  let i = 0;
  const push = () => {
    if (word !== null) commands.at(-1)!.push(word);
    word = null;
  };
  const expand = (): string | { error: string } => {
    // at text[i] === '$'
    const braced = text[i + 1] === '{';
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + (braced ? 2 : 1)));
    if (!m || (braced && text[i + 2 + m[0].length] !== '}')) {
      return { error: `"${text.slice(i, i + 12)}": only $NAME and \${NAME} expansions are understood` };
    }
    const value = env(m[0]);
    if (value === undefined) return { error: `$${m[0]} is not set in the container's env` };
    i += m[0].length + (braced ? 3 : 1);
    return value;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      push();
      i++;
    } else if (c === '#' && word === null) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, message: 'unterminated single quote' };
      word = (word ?? '') + text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) return { ok: false, message: 'unterminated double quote' };
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < text.length && '$`"\\\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== '\n') s += text[i + 1];
          i += 2;
        } else if (d === '$') {
          const v = expand();
          if (typeof v !== 'string') return { ok: false, message: v.error };
          s += v;
        } else if (d === '`') {
          return { ok: false, message: 'command substitution (`...`) is not run by Berth' };
        } else {
          s += d;
          i++;
        }
      }
      word = (word ?? '') + s;
      i++;
    } else if (c === '\\') {
      if (text[i + 1] !== '\n') word = (word ?? '') + (text[i + 1] ?? '');
      i += 2;
    } else if (c === '$') {
      if (text[i + 1] === '(') return { ok: false, message: 'command substitution ($(...)) is not run by Berth' };
      const v = expand();
      if (typeof v !== 'string') return { ok: false, message: v.error };
      word = (word ?? '') + v;
    } else if (c === '`') {
      return { ok: false, message: 'command substitution (`...`) is not run by Berth' };
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        push();
        if (commands.at(-1)!.length > 0) commands.push([]);
        i += op.length;
      } else {
        word = (word ?? '') + c;
        i++;
      }
    }
  }
  push();
  return { ok: true, commands: commands.filter((c) => c.length > 0) };
}
