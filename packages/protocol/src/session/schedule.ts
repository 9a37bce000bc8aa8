/**
 * The hop schedule (spec/protocol.md §5): the set of the lab at index i in the session's
 * lab list is blinded by labs i, i+1, …, i+n−1 (mod n) in that order. So the owner always applies
 * its key first (an unkeyed hash never leaves a lab), every set receives every lab's key exactly
 * once, and each lab is the last hop of exactly one set (the set of the lab after it). The relay
 * never sends fully blinded tags to anyone; it only receives them from the last hop.
 */
import { ProtocolError } from '../errors.js';

/** Index (in the lab list) of the lab that applies hop `hop` to the set owned by lab `owner`. */
export function hopLab(owner: number, hop: number, labCount: number): number {
  if (!Number.isInteger(hop) || hop < 0 || hop >= labCount) {
    throw new ProtocolError('INVALID_MESSAGE', `hop ${hop} is outside 0..${labCount - 1}`);
  }
  return (owner + hop) % labCount;
}

/** The hop that lab `lab` applies to the set of `owner`. */
export function hopOf(owner: number, lab: number, labCount: number): number {
  return (lab - owner + labCount) % labCount;
}

/** The owner of the set whose last hop is `lab`. */
export function lastHopOwner(lab: number, labCount: number): number {
  return (lab + 1) % labCount;
}
