/*
 * unit.h - a tiny test harness for the C unit tests.
 *
 * Each test file defines tests with TEST(name) { ... } and lists them in
 * main() via RUN(name).  CHECK() records a failure and goes on; the summary
 * line "N passed, N failed" is what CI reads.
 */
#ifndef GH_UNIT_H
#define GH_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *_a = (a), *_b = (b); \
	if (strcmp(_a, _b) != 0) { \
		unit_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", \
			__FILE__, __LINE__, #a, _a, _b); \
	} \
} while (0)

#define TEST(name) static void name(void)

#define RUN(name) do { \
	int _before = unit_failed_checks; \
	name(); \
	if (unit_failed_checks == _before) unit_passed++; \
	else { unit_failed++; fprintf(stderr, "FAIL %s\n", #name); } \
} while (0)

#define UNIT_SUMMARY(file) ( \
	printf("%s: %d passed, %d failed\n", (file), unit_passed, unit_failed), \
	unit_failed ? 1 : 0)

#endif
