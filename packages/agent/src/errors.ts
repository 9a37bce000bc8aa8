/**
 * The one error type of @overlap/agent: what keeps an agent from starting, from reading a kind's
 * suspects, or from delivering a session's results. Callers branch on `code`, never on the
 * message; messages name the setting, source or destination that failed, never a secret (a
 * webhook's key) or an indicator value.
 */
import { OverlapError } from '@overlap/errors';

export type AgentErrorCode =
  /** The agent's configuration cannot be used: the message names the setting and why. */
  | 'BAD_CONFIG'
  /** A kind's suspect list could not be had: its file is missing, its command failed or hung. */
  | 'SOURCE_FAILED'
  /** A session's results could not be delivered to one of the agent's destinations. */
  | 'DELIVERY_FAILED'
  /** Another agent process holds the state directory. */
  | 'STATE_LOCKED'
  /** A file of the agent's state is not what this program writes. */
  | 'STATE_DAMAGED';

export class AgentError extends OverlapError<AgentErrorCode> {
  override readonly name = 'AgentError';
}
