// What a rejection means for the person holding the scanner, and what to do next. The
// server's own message (which names only what the caller may see) follows in smaller type.
const rejection: Record<string, string> = {
  INVALID_QR: 'This label cannot be read as a bag number. Scan it again, or type the number printed on the label.',
  IS_PARENT: 'That is a parent bag label, not a child bag. Scan a child bag, or press "New parent bag" to switch bags.',
  IS_CHILD: 'That is a child bag label. Scan the label of the parent bag instead.',
  LINKED_TO_OTHER_PARENT: 'This child bag is already packed in another parent bag. Put it aside and tell your supervisor.',
  PARENT_FULL: 'This parent bag already holds all its child bags. Close it and scan a new parent bag.',
  ON_OTHER_BILL: 'This parent bag is already loaded on another bill. Check the bill number with your supervisor.',
  BILL_FULL: 'This bill already has all its parent bags. Complete it, or raise its capacity first.',
  BILL_COMPLETED: 'The bill of this parent bag is completed, so the bag cannot change. Ask a biller to reopen the bill.',
  NOT_FOUND: 'No parent bag with this label is known yet. Scan it at a scanner station first.',
  DUPLICATE_IN_BATCH: 'The same label was scanned twice in a row; it counts once.',
  FORBIDDEN_AREA: 'This bag belongs to another dispatch area. Put it aside and tell your supervisor.',
};

const error: Record<string, string> = {
  UNAUTHENTICATED: 'You are signed out. Sign in again.',
  FORBIDDEN: 'Your account may not do this. Ask an admin if you need it.',
  BAD_USER_INPUT: 'That was not accepted.',
  NOT_FOUND: 'Not found.',
  CONFLICT: 'That cannot be done in the current state.',
  ACCOUNT_LOCKED: 'This account is locked after too many wrong passwords.',
  RATE_LIMITED: 'Too many requests at once. Wait a moment and try again.',
  SERVICE_UNAVAILABLE: 'The server is busy or its database is down. Try again in a few seconds.',
  NETWORK: 'The server cannot be reached.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server. Try again; if it repeats, tell an admin.',
};

export function rejectionText(code: string): string {
  return rejection[code] ?? 'This scan was refused.';
}

export function errorText(code: string): string {
  return error[code] ?? 'Something went wrong.';
}
