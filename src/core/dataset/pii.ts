import type { MappedRecord } from './adapter';

/**
 * Simple PII flags: cheap patterns, meant to point a curator at records worth a look, not a
 * guarantee. Phone and ID patterns are anchored on digit boundaries so long numbers inside ids or
 * code do not match.
 */

export type PiiKind = 'email' | 'phone' | 'idCard';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
// Mainland-China mobile numbers, and international/NANP forms with separators.
const PHONE = /(?<![\d.])(?:1[3-9]\d{9}|\+\d{1,3}[ -]?\(?\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{3,4}|\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4})(?![\d])/;
// A cheap necessary condition for every phone and ID pattern but the international one ("+…"), so
// the full patterns run only on the few texts that could match.
const DIGIT_RUN = /\d{3}-?\d{4}/;
// PRC resident identity card numbers (18 characters, the last a checksum digit or X).
const ID_CARD = /(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)/g;
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

function validIdCard(id: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11] === id[17].toUpperCase();
}

/** The kinds of PII that occur in `text`. */
export function findPii(text: string): PiiKind[] {
  const kinds: PiiKind[] = [];
  if (text.includes('@') && EMAIL.test(text)) kinds.push('email');
  const digits = DIGIT_RUN.test(text);
  if ((digits || text.includes('+')) && PHONE.test(text)) kinds.push('phone');
  if (digits) {
    ID_CARD.lastIndex = 0;
    for (let m = ID_CARD.exec(text); m !== null; m = ID_CARD.exec(text)) {
      if (validIdCard(m[0])) {
        kinds.push('idCard');
        break;
      }
    }
  }
  return kinds;
}

/**
 * PII in a record's texts: the conversation and the responses (not ids or other metadata), joined
 * so each pattern runs once per record rather than once per turn.
 */
export function findPiiInRecord(record: MappedRecord): PiiKind[] {
  let text = '';
  for (const turn of record.context) text += turn.content + '\n';
  for (const response of record.responses) text += response.text + '\n';
  return findPii(text);
}
