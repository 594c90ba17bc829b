/** The zone every authoritative server in bench/dns.ts serves: ours and BIND read this text, dns2 gets the same data as a map. */
export const BENCH_ZONE = `$ORIGIN bench.test.
$TTL 300
@     IN SOA   ns1 hostmaster 1 7200 900 1209600 60
      IN NS    ns1
      IN MX    10 mail
ns1   IN A     192.0.2.53
www   IN A     192.0.2.80
      IN AAAA  2001:db8::80
mail  IN A     192.0.2.25
`;
