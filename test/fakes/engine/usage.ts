// argparse's usage block (HelpFormatter._format_usage). The engines print it above every
// argparse error; its wrapping depends on the terminal width (COLUMNS, else the pty size,
// else 80, minus 2), so a daemon that shows "the last line" must not assume a fixed height.
import type { Action, Parser } from './argparse.js';

/** `usage: <prog> [-h] ...\n`, wrapped as argparse wraps it for `width` columns. */
export function formatUsage(parser: Parser, columns: number): string {
  const prefix = 'usage: ';
  const textWidth = columns - 2;
  const parts = parser.actions.map(usagePart);
  const flat = [parser.prog, ...parts].join(' ');
  if (prefix.length + flat.length <= textWidth) return `${prefix}${flat}\n`;
  // The engines' progs are short, so argparse takes its "indent under the first option" branch.
  const indent = ' '.repeat(prefix.length + parser.prog.length + 1);
  const lines: string[] = [];
  let line: string[] = [];
  let len = prefix.length - 1;
  for (const part of [parser.prog, ...parts]) {
    if (len + 1 + part.length > textWidth && line.length) {
      lines.push(indent + line.join(' '));
      line = [];
      len = indent.length - 1;
    }
    line.push(part);
    len += part.length + 1;
  }
  if (line.length) lines.push(indent + line.join(' '));
  lines[0] = (lines[0] as string).slice(indent.length);
  return `${prefix}${lines.join('\n')}\n`;
}

function usagePart(a: Action): string {
  let text: string;
  if (a.kind === 'bool_optional') {
    text = a.optionStrings.join(' | '); // Python 3.12 BooleanOptionalAction.format_usage
  } else if (a.nargs === 0) {
    text = a.optionStrings[0] as string;
  } else {
    text = `${a.optionStrings[0]} ${formatArgs(a)}`;
  }
  return a.required ? text : `[${text}]`;
}

function formatArgs(a: Action): string {
  const m = a.metavar ?? (a.choices ? `{${a.choices.join(',')}}` : a.dest.toUpperCase());
  switch (a.nargs) {
    case '?':
      return `[${m}]`;
    case '*':
      return `[${m} ...]`;
    case '+':
      return `${m} [${m} ...]`;
    default:
      return m;
  }
}
