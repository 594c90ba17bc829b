/**
 * The connection states of RFC 9293 §3.3.2, and their names as netstat and
 * the RFC print them. Their own module, so that the TCB and the modules it
 * calls (sender, handshake, listener) can all name a state without importing
 * one another.
 */
export enum State {
  Closed,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
}

export const STATE_NAMES = ['CLOSED', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT', 'CLOSING', 'LAST-ACK', 'TIME-WAIT'];
