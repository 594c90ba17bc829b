/**
 * One error class for everything DNS: malformed messages from the codec and
 * failed lookups from the resolver. Each has a stable code, in the style of
 * undici's UND_ERR_*: ERR_DNS_FORMERR and its narrower kin for bad bytes,
 * ERR_DNS_NXDOMAIN, ERR_DNS_TIMEOUT and the like for lookups.
 */
import { ProtostackError } from '../../errors.js';

export type DnsErrorCode =
  // the message is malformed (the decoder)
  | 'ERR_DNS_FORMERR'
  | 'ERR_DNS_TRUNCATED'
  | 'ERR_DNS_POINTER_LOOP'
  | 'ERR_DNS_LABEL_TOO_LONG'
  | 'ERR_DNS_NAME_TOO_LONG'
  | 'ERR_DNS_TOO_MANY_RECORDS'
  | 'ERR_DNS_OVERSIZE'
  | 'ERR_DNS_BAD_RDATA'
  // a value cannot be encoded (the encoder)
  | 'ERR_DNS_BAD_NAME'
  | 'ERR_DNS_BAD_VALUE'
  // the lookup failed (the resolver)
  | 'ERR_DNS_NXDOMAIN'
  | 'ERR_DNS_NODATA'
  | 'ERR_DNS_SERVFAIL'
  | 'ERR_DNS_REFUSED'
  | 'ERR_DNS_NOTIMP'
  | 'ERR_DNS_BAD_RESPONSE'
  | 'ERR_DNS_TIMEOUT'
  | 'ERR_DNS_UNREACHABLE'
  | 'ERR_DNS_CNAME_LOOP'
  | 'ERR_DNS_NO_SERVERS'
  | 'ERR_DNS_CANCELED'
  | 'ERR_DNS_BAD_CONFIG';

export class DnsError extends ProtostackError<DnsErrorCode> {
  override readonly name = 'DnsError';
  constructor(code: DnsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}

export function isDnsError(err: unknown, code?: DnsErrorCode): err is DnsError {
  return err instanceof DnsError && (code === undefined || err.code === code);
}
