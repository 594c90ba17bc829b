/** protostack/dns: the stub resolver and the authoritative server, both on the socket library. */
export { Resolver, type Address, type Answer, type LookupOptions, type ResolverOptions } from './resolver.js';
export { DnsServer, serveDns, type DnsServerOptions, type DnsServerStats } from './server.js';
export { Zone } from './zone.js';
export { loadZone, parseZone, type ZoneFileOptions } from './zone-file.js';
export { parseResolvConf, type ResolverConfig } from './config.js';
export { HostsTable, parseHosts } from './hosts.js';
export { formatMessage, formatRecord } from './present.js';
export { DnsError, isDnsError, type DnsErrorCode } from '../wire/dns/errors.js';
