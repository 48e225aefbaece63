/**
 * Where a command's new password comes from. Never the command line (it would be left in shell
 * history and visible to other users in the process list): either typed at the terminal, twice,
 * without echo, or piped in with `--password-stdin`. Asking for a password when neither is possible
 * is a usage error, raised before anything else is done.
 */
import { UsageError, type CliIo } from './command.js';

/** Raised when the operator interrupts the prompt (Ctrl-C, or Ctrl-D on an empty line). */
export class PromptCancelledError extends Error {
  constructor() {
    super('Cancelled: no password was entered');
    this.name = 'PromptCancelledError';
  }
}

export type PasswordSource = 'stdin' | 'terminal';

/** How the password will be read; throws a {@link UsageError} when it cannot be. */
export function passwordSource(io: CliIo, passwordStdin: boolean): PasswordSource {
  if (passwordStdin) return 'stdin';
  if (io.stdin.isTTY) return 'terminal';
  throw new UsageError(
    'A password is needed, but standard input is not a terminal: pipe it in with --password-stdin.',
  );
}

/** Reads the password from `source`; at the terminal, asks twice and requires the same answer. */
export async function readNewPassword(io: CliIo, source: PasswordSource): Promise<string> {
  if (source === 'stdin') return readAllStdin(io.stdin);
  const first = await promptHidden(io, 'New password: ');
  const second = await promptHidden(io, 'Repeat the password: ');
  if (first !== second) throw new UsageError('The two passwords are not the same.');
  return first;
}

/** All of standard input, as UTF-8, without one trailing newline. */
async function readAllStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on standard error and reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') {
          finish(() => resolve(typed));
          return;
        }
        if (character === '\u0003' || (character === '\u0004' && typed === '')) {
          finish(() => reject(new PromptCancelledError()));
          return;
        }
        if (character === '\u007f' || character === '\b') {
          typed = Array.from(typed).slice(0, -1).join('');
        } else if (character >= ' ') {
          typed += character;
        }
      }
    };
    stdin.on('data', onData);
  });
}
