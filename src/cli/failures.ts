/**
 * Turns whatever a command threw into an exit status and a message for standard error: the
 * service's refusals and the operator's mistakes get their own statuses and a plain sentence;
 * anything else is an unexpected failure (exit 1), described with its causes but never a stack.
 */
import { AccessRulesFileError } from '../auth/access-rules-file.js';
import { ConfigError } from '../config.js';
import {
  InvalidEmailError,
  PasswordPolicyError,
  UnknownEmailError,
  UnknownSessionError,
  UserAlreadyExistsError,
} from '../auth/errors.js';
import { describeError } from '../describe-error.js';
import { EXIT, UsageError } from './command.js';
import { PromptCancelledError } from './password-input.js';

/** A command's own refusal (exit 4); the message says why. */
export class CommandRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandRefusedError';
  }
}

/** A failure, as the process reports it. */
export interface Failure {
  readonly exitCode: number;
  readonly message: string;
}

/** The exit status and message for `error`. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) return { exitCode: EXIT.usage, message: error.message };
  if (error instanceof ConfigError || error instanceof AccessRulesFileError) {
    return { exitCode: EXIT.usage, message: error.message };
  }
  if (error instanceof UnknownEmailError) {
    return { exitCode: EXIT.noSuchAccount, message: 'There is no account with that email.' };
  }
  if (error instanceof UnknownSessionError) {
    return {
      exitCode: EXIT.noSuchAccount,
      message: 'That account has no live session with that id.',
    };
  }
  if (error instanceof UserAlreadyExistsError) {
    return { exitCode: EXIT.refused, message: `${error.email} already has an account.` };
  }
  if (error instanceof InvalidEmailError || error instanceof PasswordPolicyError) {
    return { exitCode: EXIT.refused, message: sentence(error.message) };
  }
  if (error instanceof CommandRefusedError)
    return { exitCode: EXIT.refused, message: error.message };
  if (error instanceof PromptCancelledError)
    return { exitCode: EXIT.failure, message: error.message };
  return { exitCode: EXIT.failure, message: `Failed: ${describeError(error)}` };
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
