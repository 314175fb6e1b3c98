/*
 * proxy_proto.h - the PROXY protocol (HAProxy's proxy-protocol.txt), v1
 * (text) and v2 (binary): parsing the header an L4 balancer puts in front of
 * a client connection, and writing one in front of a server connection.
 *
 * The parser is strict and bounded: v1 is one line of at most 107 bytes,
 * v2 is 16 bytes plus the length it announces, at most PP_HDR_MAX in all;
 * every v2 TLV (and every sub-TLV of PP2_TYPE_SSL) must fit exactly in what
 * is left of the header.  It keeps no state of its own: it is given every
 * byte received so far from the start of the connection and says "need
 * more", "malformed" or "complete, N bytes", so a header arriving in any
 * number of pieces parses the same (the caller peeks at the socket and
 * consumes exactly N bytes once complete).  It never allocates.
 *
 * TLVs are checked and ignored, except PP2_TYPE_AUTHORITY (the host name
 * the client asked for, e.g. its TLS SNI), which is returned.
 */
#ifndef GH_NET_PROXY_PROTO_H
#define GH_NET_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP_V1_MAX 107             /* "PROXY TCP6 <39> <39> 65535 65535\r\n" */
#define PP_V2_SIG_LEN 12
#define PP_HDR_MAX 4096           /* v2: 16 + length; longer headers are refused */
#define PP_AUTHORITY_MAX 255      /* a host name; a longer authority TLV is refused */
#define PP_BUILD_MAX 112          /* room pp_build() needs: v1 107, v2 16 + 36 */

#define PP2_TYPE_ALPN      0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C    0x03
#define PP2_TYPE_NOOP      0x04
#define PP2_TYPE_UNIQUE_ID 0x05
#define PP2_TYPE_SSL       0x20

/* What a complete header said. */
struct pp_info {
	uint8_t version;                /* 1 or 2 */
	/* v2 LOCAL, v1 UNKNOWN, or v2 PROXY with an address family we do not
	 * carry (AF_UNSPEC, AF_UNIX): the connection's own addresses stand. */
	bool local;
	struct sockaddr_storage src;    /* AF_INET or AF_INET6, with the port; unless local */
	struct sockaddr_storage dst;
	const uint8_t *authority;       /* PP2_TYPE_AUTHORITY, into the parsed bytes; NULL if none */
	uint16_t authority_len;
	uint16_t ntlv;                  /* TLVs seen (v2) */
};

enum { PP_ERROR = -1, PP_NEED_MORE = 0 };

/*
 * Parses the PROXY header at the start of buf[0..len).  Returns its length
 * (> 0) when it is complete and valid (*info filled), PP_NEED_MORE when
 * buf is a valid beginning of a header, or PP_ERROR (*why: static text)
 * when it is not and can never become one.
 */
int pp_parse(const uint8_t *buf, size_t len, struct pp_info *info, const char **why);

/*
 * Does buf[0..len) start with a PROXY signature ("PROXY " or v2's 12
 * bytes)?  1 yes, -1 no, 0 cannot tell yet (a prefix of one of them).
 */
int pp_detect(const uint8_t *buf, size_t len);

/*
 * Writes a header of `version` (1 or 2) carrying src -> dst (AF_INET or
 * AF_INET6; IPv4-mapped IPv6 counts as IPv4, and mixed families are sent
 * as IPv6).  With src or dst NULL, or of another family, it writes what
 * says "no addresses": v1 "PROXY UNKNOWN", v2 LOCAL (local, health checks)
 * or v2 PROXY/AF_UNSPEC.  Returns the length, or 0 if cap is too small
 * (PP_BUILD_MAX always suffices).
 */
size_t pp_build(int version, const struct sockaddr *src, const struct sockaddr *dst, bool local,
		uint8_t *out, size_t cap);

#endif
