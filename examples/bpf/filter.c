/* Eth/IPv4/TCP packet filter with explicit bounds checks before every header access. Verdicts:
 * 0 drop (truncated or malformed), 1 not IPv4, 2 IPv4 but not TCP, 3 TCP to an allowed port
 * (80, 443), 4 TCP to any other port. A second program returns the TCP destination port (or
 * 0xffff when the packet is not a complete Eth/IPv4/TCP packet). */
#include "bpf_shim.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define IPPROTO_TCP 6

static inline u32 rd16(const u8 *p) { return ((u32)p[0] << 8) | p[1]; }

/* Offset of the TCP header, or 0 when the packet is not a complete Eth/IPv4/TCP packet. */
static inline u64 tcp_offset(const u8 *data, u64 len, u64 *verdict) {
  *verdict = 0;
  if (len < ETH_HLEN) return 0;
  if (rd16(data + 12) != ETH_P_IP) { *verdict = 1; return 0; }
  if (len < ETH_HLEN + 20) return 0;
  const u8 *ip = data + ETH_HLEN;
  u64 ihl = (u64)(ip[0] & 0xf) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20) return 0;
  if (rd16(ip + 2) < ihl) return 0;
  if (ip[9] != IPPROTO_TCP) { *verdict = 2; return 0; }
  if (ETH_HLEN + ihl + 20 > len) return 0;
  return ETH_HLEN + ihl;
}

SEC("xdp") u64 filter(const u8 *data, u64 len) {
  u64 verdict;
  u64 off = tcp_offset(data, len, &verdict);
  if (off == 0) return verdict;
  u32 dport = rd16(data + off + 2);
  return (dport == 80 || dport == 443) ? 3 : 4;
}

SEC("tc") u64 tcp_dport(const u8 *data, u64 len) {
  u64 verdict;
  u64 off = tcp_offset(data, len, &verdict);
  return off == 0 ? 0xffff : rd16(data + off + 2);
}

#define NATIVE_PROGRAMS(X) X(filter) X(tcp_dport)
#include "native_main.h"
