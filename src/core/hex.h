/*
 * hex.h - one hexadecimal digit's value, for the percent, \x and \u
 * decoders of the admin API path, the JSON parser, the WAF transforms and
 * strict checks, and gRPC's grpc-message.  Inline: the WAF transforms call
 * it per byte of every inspected argument.
 */
#ifndef GH_CORE_HEX_H
#define GH_CORE_HEX_H

/* 0-15 for [0-9a-fA-F], else -1 (a byte above 0x7f included). */
static inline int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
