// Flag parsing and input reading shared by the commands. Each command parses
// its own flags strictly, so a typo is a usage error naming the flag.
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

export type Out = { out: (s: string) => void; err: (s: string) => void };

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message.split('\n')[0]!, 2);
  }
  if (parsed.positionals.length > positionals) throw new CliError(`unexpected argument: ${parsed.positionals[positionals]}`, 2);
  return parsed;
}

export function need(positionals: string[], i: number, what: string): string {
  const v = positionals[i];
  if (!v) throw new CliError(`missing ${what}`, 2);
  return v;
}

export async function readSpecFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON`);
  }
}

/** A file's text, or stdin's for `-`. */
export async function readTextInput(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const json = (v: unknown) => JSON.stringify(v, null, 2);
