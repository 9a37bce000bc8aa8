/** A lab id as enrollments carry it (spec/protocol.md §4 `lab-id`): what other labs see. */
export const LAB_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** LAB_ID_PATTERN in words, for error messages. */
export const LAB_ID_RULE = '1 to 63 of a-z, 0-9 and -, not starting with -';
