// One levelled logger for the daemon. Secrets never reach it: API keys and
// auth headers are redacted wherever they appear in a logged object.
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['apiKey', '*.apiKey', 'headers.authorization', '*.headers.authorization', 'env.HF_TOKEN', '*.env.HF_TOKEN', 'secretEnv', '*.secretEnv', '*.*.secretEnv', 'hf_token', '*.hf_token'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stderr,
  );
}
