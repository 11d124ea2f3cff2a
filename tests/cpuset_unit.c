/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cpuset.c: CPU lists and kernel masks up to 4096 CPUs and beyond, every
 * malformed input the parsers must refuse, set operations past one
 * cpu_set_t, a real affinity round trip on this process, and which CPUs
 * the daemon may use, read from cgroup v2 and v1 fixture trees.
 */
#include "acconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "tree.h"

#include "common/cpuset.h"
#include "common/util.h"

/* Names the case being checked, newlines shown as "\n". */
static void
show(const char *what, const char *text)
{
	print_message("%s \"", what);
	for (; *text != '\0'; text++) {
		if (*text == '\n')
			print_message("\\n");
		else
			print_message("%c", *text);
	}
	print_message("\"\n");
}

/* Parses a list the test knows to be good. */
static struct cpuset *
list(const char *text)
{
	struct cpuset	*set = NULL;

	assert_int_equal(cpuset_parse_list(text, &set), 0);
	assert_non_null(set);
	return set;
}

static void
assert_list(const struct cpuset *set, const char *want)
{
	char	*got;

	assert_non_null(got = cpuset_format_list(set));
	assert_string_equal(got, want);
	free(got);
}

static void
assert_mask(const struct cpuset *set, const char *want)
{
	char	*got;

	assert_non_null(got = cpuset_format_mask(set));
	assert_string_equal(got, want);
	free(got);
}

/* A mask of n groups: the top one top, all others rest. */
static char *
make_mask(size_t n, const char *top, const char *rest)
{
	char	*text;
	size_t	 i;

	assert_non_null(text = malloc(n * 9 + 1));
	strcpy(text, top);
	for (i = 1; i < n; i++) {
		strcat(text, ",");
		strcat(text, rest);
	}
	return text;
}

static void
test_list_round_trip(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
		unsigned int	 count;
	} cases[] = {
		{ "0-3,8,10-11", "0-3,8,10-11", 7 },
		{ "5", "5", 1 },
		{ "0", "0", 1 },
		{ "4095", "4095", 1 },
		{ "0-4095", "0-4095", 4096 },
		{ "65535", "65535", 1 },
		{ "7,0-2,1", "0-2,7", 4 },
		{ "0,1,2,3", "0-3", 4 },
		{ "1,3,5", "1,3,5", 3 },
		{ "  2-3 , 9 \n", "2-3,9", 3 },
		{ "0-1\n", "0-1", 2 },
		{ "4-4", "4", 1 },
		{ "0-15:2/4", "0-1,4-5,8-9,12-13", 8 },
		{ "0-9:1/3", "0,3,6,9", 4 },
		{ "0-6:0/3", "", 0 },
		{ "", "", 0 },
		{ " \t\n", "", 0 },
	};
	struct cpuset	*set;
	size_t		 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		show("list", cases[i].in);
		set = list(cases[i].in);
		assert_list(set, cases[i].out);
		assert_int_equal(cpuset_count(set), cases[i].count);
		assert_int_equal(cpuset_empty(set), cases[i].count == 0);
		cpuset_free(set);
	}
}

static void
test_mask_round_trip(void **state)
{
	static const struct {
		const char	*in;
		const char	*list;
		const char	*out;
	} cases[] = {
		{ "ff,00000001", "0,32-39", "000000ff,00000001" },
		{ "000000ff,00000001\n", "0,32-39", "000000ff,00000001" },
		{ " 3 \n", "0-1", "00000003" },
		{ "00000010,00000000,00000000,00000000", "100",
		    "00000010,00000000,00000000,00000000" },
		{ "1", "0", "00000001" },
		{ "3", "0-1", "00000003" },
		{ "FfFf", "0-15", "0000ffff" },
		{ "80000000", "31", "80000000" },
		{ "0", "", "00000000" },
		{ "00000000,00000000,00000004", "2", "00000004" },
		{ "ff,1", "0,32-39", "000000ff,00000001" },
	};
	struct cpuset	*set;
	size_t		 i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		show("mask", cases[i].in);
		set = NULL;
		assert_int_equal(cpuset_parse_mask(cases[i].in, &set), 0);
		assert_list(set, cases[i].list);
		assert_mask(set, cases[i].out);
		cpuset_free(set);
	}
}

/* 128 groups of 32 bits are 4096 CPUs, as the kernel prints them. */
static void
test_mask_4096(void **state)
{
	struct cpuset	*set;
	char		*text;

	(void)state;
	text = make_mask(128, "ffffffff", "ffffffff");
	assert_int_equal(cpuset_parse_mask(text, &set), 0);
	assert_int_equal(cpuset_count(set), 4096);
	assert_list(set, "0-4095");
	assert_mask(set, text);
	cpuset_free(set);
	free(text);

	text = make_mask(128, "80000000", "00000000");
	assert_int_equal(cpuset_parse_mask(text, &set), 0);
	assert_int_equal(cpuset_count(set), 1);
	assert_int_equal(cpuset_first(set), 4095);
	assert_list(set, "4095");
	assert_mask(set, text);
	cpuset_free(set);

	set = list("4095");
	assert_mask(set, text);
	cpuset_free(set);
	free(text);
}

/* A pseudo-random set printed both ways reads back the same both ways. */
static void
test_list_mask_agree(void **state)
{
	static const char *const lists[] = {
		"0-3,8,10-11", "100", "31-32", "63-64", "0-4095", "4095",
		"1,33,65,97,129,1023-1025,2047,4094",
	};
	struct cpuset	*set, *from_list, *from_mask;
	char		*l, *m;
	unsigned int	 cpu, seed = 12345;
	size_t		 i;

	(void)state;
	for (i = 0; i <= ARRAY_SIZE(lists); i++) {
		if (i < ARRAY_SIZE(lists))
			set = list(lists[i]);
		else {
			assert_non_null(set = cpuset_new());
			for (cpu = 0; cpu < 4096; cpu++) {
				seed = seed * 1103515245 + 12345;
				if ((seed >> 16) & 1)
					assert_int_equal(cpuset_add(set, cpu),
					    0);
			}
		}
		assert_non_null(l = cpuset_format_list(set));
		assert_non_null(m = cpuset_format_mask(set));
		assert_int_equal(cpuset_parse_list(l, &from_list), 0);
		assert_int_equal(cpuset_parse_mask(m, &from_mask), 0);
		assert_true(cpuset_equal(set, from_list));
		assert_true(cpuset_equal(set, from_mask));
		cpuset_free(from_list);
		cpuset_free(from_mask);
		cpuset_free(set);
		free(l);
		free(m);
	}
}

/* "0x" means a mask, which may then be one long group as taskset writes. */
static void
test_parse_either(void **state)
{
	struct cpuset	*set;

	(void)state;
	assert_int_equal(cpuset_parse("0xff", &set), 0);
	assert_list(set, "0-7");
	cpuset_free(set);
	assert_int_equal(cpuset_parse("0Xff,00000001", &set), 0);
	assert_list(set, "0,32-39");
	cpuset_free(set);
	assert_int_equal(cpuset_parse("0xffffffffff", &set), 0);
	assert_list(set, "0-39");
	cpuset_free(set);
	assert_int_equal(cpuset_parse(" 0x1\n", &set), 0);
	assert_list(set, "0");
	cpuset_free(set);
	assert_int_equal(cpuset_parse("2-5", &set), 0);
	assert_list(set, "2-5");
	cpuset_free(set);
	assert_int_equal(cpuset_parse("0", &set), 0);
	assert_list(set, "0");
	cpuset_free(set);
	assert_int_equal(cpuset_parse("", &set), 0);
	assert_true(cpuset_empty(set));
	cpuset_free(set);
}

struct bad_case {
	const char	*text;
	int		 error;
};

static void
assert_refused(int (*parse)(const char *, struct cpuset **),
    const struct bad_case *cases, size_t n)
{
	struct cpuset	*set;
	size_t		 i;

	for (i = 0; i < n; i++) {
		show("refuse", cases[i].text);
		set = (struct cpuset *)&set;	/* must stay untouched */
		assert_int_equal(parse(cases[i].text, &set), cases[i].error);
		assert_ptr_equal(set, (struct cpuset *)&set);
	}
}

static void
test_list_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "garbage", -EINVAL }, { "abc", -EINVAL }, { "3-1", -EINVAL },
		{ "1,,2", -EINVAL }, { "-", -EINVAL }, { "1-", -EINVAL },
		{ "1,", -EINVAL }, { ",1", -EINVAL }, { ",", -EINVAL },
		{ "1 2", -EINVAL }, { "1-2-3", -EINVAL }, { "-1", -EINVAL },
		{ "+1", -EINVAL }, { "1.5", -EINVAL }, { "0x1", -EINVAL },
		{ "1-3:", -EINVAL }, { "1-3:1", -EINVAL },
		{ "1-3:1/", -EINVAL }, { "0-15:3/2", -EINVAL },
		{ "0-15:1/0", -EINVAL }, { "1:1/2", -EINVAL },
		{ "2,3x", -EINVAL }, { "1\n2", -EINVAL },
		{ "65536", -ERANGE }, { "0-65536", -ERANGE },
		{ "4000000000", -ERANGE }, { "0-4000000000", -ERANGE },
		{ "1,99999999999999999999999999999999", -ERANGE },
		{ "0-7:1/4000000000", -ERANGE },
	};

	(void)state;
	assert_refused(cpuset_parse_list, cases, ARRAY_SIZE(cases));
}

static void
test_mask_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "", -EINVAL }, { "\n", -EINVAL }, { ",", -EINVAL },
		{ "ff,", -EINVAL }, { ",ff", -EINVAL }, { "ff,,ff", -EINVAL },
		{ "g", -EINVAL }, { "123456789", -EINVAL },
		{ "ff ff", -EINVAL }, { "0x12", -EINVAL }, { "-1", -EINVAL },
		{ "ff,123456789", -EINVAL }, { "0-3", -EINVAL },
	};
	struct cpuset	*set;
	char		*text;

	(void)state;
	assert_refused(cpuset_parse_mask, cases, ARRAY_SIZE(cases));
	assert_refused(cpuset_parse, (const struct bad_case[]){
	    { "0x", -EINVAL }, { "0xg", -EINVAL }, { "0x,1", -EINVAL },
	    { "0x0-3", -EINVAL }, { "0x ff", -EINVAL } }, 5);

	/* 2049 groups reach CPU 65536; all zero above that is harmless. */
	text = make_mask(2049, "1", "00000000");
	assert_int_equal(cpuset_parse_mask(text, &set), -ERANGE);
	text[0] = '0';
	assert_int_equal(cpuset_parse_mask(text, &set), 0);
	assert_true(cpuset_empty(set));
	cpuset_free(set);
	free(text);
}

/* A huge range is refused before anything is allocated or looped over. */
static void
test_huge_range_fast(void **state)
{
	struct timespec	 t0, t1;
	struct cpuset	*set;
	char		*big;
	int		 i;

	(void)state;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(cpuset_parse_list("0-4000000000", &set),
		    -ERANGE);
		assert_int_equal(cpuset_parse("0-18446744073709551615", &set),
		    -ERANGE);
	}
	assert_non_null(big = malloc(100001));
	memset(big, 'f', 100000);
	big[100000] = '\0';
	memcpy(big, "0x", 2);
	assert_int_equal(cpuset_parse(big, &set), -ERANGE);
	free(big);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
}

static void
test_set_operations(void **state)
{
	struct cpuset	*a, *b, *c, *empty;
	unsigned int	 n;
	int		 cpu, prev;

	(void)state;
	a = list("0-2047");
	b = list("1000-3000");
	assert_int_equal(cpuset_count(a), 2048);
	assert_int_equal(cpuset_first(b), 1000);
	assert_int_equal(cpuset_last(b), 3000);
	assert_int_equal(cpuset_next(b, 1000), 1001);
	assert_int_equal(cpuset_next(b, 3000), -1);
	assert_int_equal(cpuset_next(b, 5000), -1);
	assert_int_equal(cpuset_next(a, -1), 0);
	assert_int_equal(cpuset_next(a, -5), 0);
	assert_int_equal(cpuset_next(a, INT_MAX), -1);
	assert_true(cpuset_has(b, 3000));
	assert_false(cpuset_has(b, 3001));
	assert_false(cpuset_has(b, 60000));

	assert_non_null(c = cpuset_dup(a));
	assert_true(cpuset_equal(a, c));
	cpuset_and(c, b);
	assert_list(c, "1000-2047");
	cpuset_free(c);

	assert_non_null(c = cpuset_dup(a));
	cpuset_andnot(c, b);
	assert_list(c, "0-999");
	cpuset_free(c);

	assert_non_null(c = cpuset_dup(a));
	assert_int_equal(cpuset_or(c, b), 0);
	assert_list(c, "0-3000");
	assert_false(cpuset_equal(a, c));
	cpuset_free(c);

	/* b is the larger bitmap: and with a smaller one clears its tail. */
	assert_non_null(c = cpuset_dup(b));
	cpuset_and(c, a);
	assert_list(c, "1000-2047");
	assert_int_equal(cpuset_last(c), 2047);
	cpuset_andnot(c, b);
	assert_true(cpuset_empty(c));
	assert_int_equal(cpuset_first(c), -1);
	assert_int_equal(cpuset_last(c), -1);
	cpuset_free(c);

	/* Equal means the same CPUs, whatever size the bitmaps grew to. */
	assert_non_null(c = cpuset_dup(a));
	assert_int_equal(cpuset_add(c, 9000), 0);
	assert_false(cpuset_equal(a, c));
	assert_false(cpuset_equal(c, a));
	cpuset_del(c, 9000);
	cpuset_del(c, 60000);
	assert_true(cpuset_equal(a, c));
	assert_true(cpuset_equal(c, a));
	assert_int_equal(cpuset_last(c), 2047);
	cpuset_free(c);

	n = 0;
	prev = -1;
	CPUSET_FOREACH(cpu, b) {
		assert_true(cpu > prev);
		prev = cpu;
		n++;
	}
	assert_int_equal(n, 2001);

	assert_non_null(empty = cpuset_new());
	assert_int_equal(cpuset_first(empty), -1);
	assert_int_equal(cpuset_last(empty), -1);
	assert_int_equal(cpuset_count(empty), 0);
	assert_true(cpuset_equal(empty, empty));
	assert_int_equal(cpuset_or(empty, b), 0);
	assert_true(cpuset_equal(empty, b));
	assert_int_equal(cpuset_add(empty, CPUSET_MAX_CPUS), -ERANGE);
	assert_int_equal(cpuset_add(empty, CPUSET_MAX_CPUS - 1), 0);
	assert_int_equal(cpuset_last(empty), CPUSET_MAX_CPUS - 1);
	cpuset_free(empty);
	cpuset_free(NULL);

	cpuset_free(a);
	cpuset_free(b);
}

static struct cpuset	*saved_affinity;

static int
restore_affinity(void **state)
{
	(void)state;
	if (saved_affinity != NULL)
		assert_int_equal(cpuset_set_affinity(0, saved_affinity), 0);
	return 0;
}

/* Narrow this process to CPU 0 and back, as "taskset -c 0" would. */
static void
test_affinity_round_trip(void **state)
{
	struct cpuset	*got, *want, *online;

	(void)state;
	assert_int_equal(cpuset_online("/", &online), 0);
	assert_false(cpuset_empty(saved_affinity));

	want = list("0");
	assert_int_equal(cpuset_set_affinity(0, want), 0);
	assert_int_equal(cpuset_get_affinity(0, &got), 0);
	assert_true(cpuset_equal(got, want));
	cpuset_free(got);
	assert_int_equal(cpuset_get_affinity(getpid(), &got), 0);
	assert_true(cpuset_equal(got, want));
	cpuset_free(got);

	/* The mask is sized for CPU 4095; the kernel ignores what it lacks. */
	assert_int_equal(cpuset_add(want, 4095), 0);
	assert_int_equal(cpuset_set_affinity(0, want), 0);
	assert_int_equal(cpuset_get_affinity(0, &got), 0);
	assert_list(got, "0");
	cpuset_free(got);
	cpuset_free(want);

	want = list("4095");
	assert_int_equal(cpuset_set_affinity(0, want), -EINVAL);
	cpuset_free(want);
	assert_non_null(want = cpuset_new());
	assert_int_equal(cpuset_set_affinity(0, want), -EINVAL);
	cpuset_free(want);

	assert_int_equal(cpuset_set_affinity(0, saved_affinity), 0);
	assert_int_equal(cpuset_get_affinity(0, &got), 0);
	assert_true(cpuset_equal(got, saved_affinity));
	cpuset_free(got);

	assert_int_equal(cpuset_get_affinity(INT_MAX, &got), -ESRCH);
	cpuset_free(online);
}

/* The allowed CPUs are the cpuset's, not the narrowed affinity mask. */
static void
test_allowed_ignores_affinity(void **state)
{
	struct cpuset	*allowed, *online, *zero;
	char		*source = NULL;

	(void)state;
	assert_int_equal(cpuset_online("/", &online), 0);
	zero = list("0");
	assert_int_equal(cpuset_set_affinity(0, zero), 0);

	assert_int_equal(cpuset_allowed("/", &allowed), 0);
	assert_true(cpuset_equal(allowed, online));
	cpuset_free(allowed);
	assert_int_equal(cpuset_allowed(NULL, &allowed), 0);
	assert_true(cpuset_equal(allowed, online));
	cpuset_free(allowed);
	assert_int_equal(cpuset_allowed_at("/", &allowed, &source), 0);
	assert_true(cpuset_equal(allowed, online));
	assert_non_null(source);
	print_message("allowed from %s\n", source);
	free(source);
	cpuset_free(allowed);

	assert_int_equal(cpuset_set_affinity(0, saved_affinity), 0);
	cpuset_free(zero);
	cpuset_free(online);
}

/* Fixture trees: files written below a fresh directory per test. */
static void
tree_del(struct tree *t, const char *rel)
{
	char	*path;

	assert_non_null(path = sysroot_path(t->dir, "%s", rel));
	assert_int_equal(unlink(path), 0);
	free(path);
}

/* Checks cpuset_allowed_at() on the tree: the set and its source file. */
static void
assert_allowed(struct tree *t, const char *want, const char *want_source)
{
	struct cpuset	*set;
	char		*source, *path;

	assert_int_equal(cpuset_allowed_at(t->dir, &set, &source), 0);
	assert_list(set, want);
	assert_non_null(path = sysroot_path(t->dir, "%s", want_source));
	assert_string_equal(source, path);
	free(path);
	free(source);
	cpuset_free(set);
}

#define V2_FILE	"cpuset.cpus.effective"
#define ONLINE	"sys/devices/system/cpu/online"

/* A v2 leaf without the cpuset controller runs on its parent's CPUs. */
static void
test_cgroup_v2(void **state)
{
	struct tree	*t = *state;
	struct cpuset	*set;

	tree_put(t, ONLINE, "0-7\n");
	tree_put(t, "proc/self/cgroup", "0::/system.slice/affinityd.service\n");
	tree_put(t, "proc/self/cpuset", "/system.slice/affinityd.service\n");
	tree_put(t, "sys/fs/cgroup/" V2_FILE, "0-7\n");
	tree_put(t, "sys/fs/cgroup/system.slice/" V2_FILE, "2-5\n");
	tree_put(t, "sys/fs/cgroup/system.slice/affinityd.service/"
	    "cgroup.procs", "1\n");
	assert_allowed(t, "2-5", "sys/fs/cgroup/system.slice/" V2_FILE);

	tree_put(t, "sys/fs/cgroup/system.slice/affinityd.service/" V2_FILE,
	    "3,6-9\n");
	assert_allowed(t, "3,6-7",
	    "sys/fs/cgroup/system.slice/affinityd.service/" V2_FILE);

	/* Under a sysroot the tree's online CPUs, not its cgroup. */
	assert_int_equal(cpuset_allowed(t->dir, &set), 0);
	assert_list(set, "0-7");
	cpuset_free(set);
}

/* Hybrid: v2 at /sys/fs/cgroup/unified, v1 controllers beside it. */
static void
test_cgroup_v2_unified(void **state)
{
	struct tree	*t = *state;

	tree_put(t, ONLINE, "0-7");
	tree_put(t, "proc/self/cgroup",
	    "3:cpuset:/\n1:name=systemd:/user.slice\n0::/user.slice\n");
	tree_put(t, "proc/self/cpuset", "/\n");
	tree_put(t, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-7\n");
	tree_put(t, "sys/fs/cgroup/unified/user.slice/" V2_FILE, "2-5\n");
	assert_allowed(t, "2-5", "sys/fs/cgroup/unified/user.slice/" V2_FILE);
}

static void
test_cgroup_v1(void **state)
{
	struct tree	*t = *state;

	tree_put(t, ONLINE, "0-7\n");
	tree_put(t, "proc/self/cgroup",
	    "4:memory:/x\n3:cpuset:/rt/job\n0::/\n");
	tree_put(t, "proc/self/cpuset", "/rt/job\n");
	tree_put(t, "sys/fs/cgroup/unified/cgroup.procs", "");
	tree_put(t, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-7\n");
	tree_put(t, "sys/fs/cgroup/cpuset/rt/cpuset.effective_cpus", "2-6\n");
	tree_put(t, "sys/fs/cgroup/cpuset/rt/job/cpuset.cpus", "2-5,9\n");
	assert_allowed(t, "2-5", "sys/fs/cgroup/cpuset/rt/job/cpuset.cpus");

	tree_put(t, "sys/fs/cgroup/cpuset/rt/job/cpuset.effective_cpus",
	    "3\n");
	assert_allowed(t, "3",
	    "sys/fs/cgroup/cpuset/rt/job/cpuset.effective_cpus");

	/* Without /proc/self/cpuset the cpuset line of /proc/self/cgroup. */
	tree_del(t, "proc/self/cpuset");
	tree_put(t, "proc/self/cgroup", "5:cpuacct,cpuset:/rt\n");
	assert_allowed(t, "2-6",
	    "sys/fs/cgroup/cpuset/rt/cpuset.effective_cpus");

	/* An empty cpuset has no tasks: look further up. */
	tree_put(t, "sys/fs/cgroup/cpuset/rt/cpuset.effective_cpus", "\n");
	assert_allowed(t, "0-7", "sys/fs/cgroup/cpuset/cpuset.effective_cpus");
}

/* No cgroup file at all, or only empty ones: the online CPUs. */
static void
test_cgroup_none(void **state)
{
	struct tree	*t = *state;

	tree_put(t, ONLINE, "0-7\n");
	assert_allowed(t, "0-7", ONLINE);
	tree_put(t, "proc/self/cgroup", "0::/a/b\n");
	tree_put(t, "sys/fs/cgroup/a/b/cgroup.procs", "1\n");
	assert_allowed(t, "0-7", ONLINE);
	tree_put(t, "proc/self/cpuset", "/a\n");
	tree_put(t, "sys/fs/cgroup/cpuset/a/cpuset.cpus", "\n");
	assert_allowed(t, "0-7", ONLINE);
	/* CPUs that are all offline are no answer either. */
	tree_put(t, "sys/fs/cgroup/a/" V2_FILE, "12-15\n");
	assert_allowed(t, "0-7", ONLINE);
}

/* A malformed cgroup file is an error naming it; so is missing online. */
static void
test_cgroup_errors(void **state)
{
	struct tree	*t = *state;
	struct cpuset	*set = NULL;
	char		*source, *path;

	tree_put(t, "proc/self/cgroup", "0::/a\n");
	tree_put(t, "sys/fs/cgroup/a/" V2_FILE, "2-x\n");
	tree_put(t, ONLINE, "0-7\n");
	assert_int_equal(cpuset_allowed_at(t->dir, &set, &source), -EINVAL);
	assert_null(set);
	path = sysroot_path(t->dir, "sys/fs/cgroup/a/" V2_FILE);
	assert_non_null(path);
	assert_string_equal(source, path);
	free(path);
	free(source);

	tree_put(t, "sys/fs/cgroup/a/" V2_FILE, "2-5\n");
	tree_del(t, ONLINE);
	assert_int_equal(cpuset_allowed_at(t->dir, &set, &source), -ENOENT);
	assert_null(set);
	assert_non_null(path = sysroot_path(t->dir, ONLINE));
	assert_string_equal(source, path);
	free(path);
	free(source);
	assert_int_equal(cpuset_allowed_at(t->dir, &set, NULL), -ENOENT);
	assert_int_equal(cpuset_allowed(t->dir, &set), -ENOENT);
	assert_int_equal(cpuset_online(t->dir, &set), -ENOENT);
	assert_null(set);
}

static void
test_read_files(void **state)
{
	struct tree	*t = *state;
	struct cpuset	*set = NULL;
	char		*path;

	tree_put(t, "sys/devices/system/cpu/possible", "0-4095\n");
	tree_put(t, ONLINE, "0-3,8\n");
	assert_int_equal(cpuset_possible(t->dir, &set), 0);
	assert_int_equal(cpuset_count(set), 4096);
	cpuset_free(set);
	assert_int_equal(cpuset_online(t->dir, &set), 0);
	assert_list(set, "0-3,8");
	cpuset_free(set);
	set = NULL;

	assert_non_null(path = sysroot_path(t->dir, "f"));
	assert_int_equal(cpuset_read_list_file(path, &set), -ENOENT);
	assert_int_equal(cpuset_read_mask_file(path, &set), -ENOENT);
	tree_put(t, "f", "1-x\n");
	assert_int_equal(cpuset_read_list_file(path, &set), -EINVAL);
	tree_put(t, "f", "99999999\n");
	assert_int_equal(cpuset_read_list_file(path, &set), -EINVAL);
	tree_put(t, "f", "zz\n");
	assert_int_equal(cpuset_read_mask_file(path, &set), -EINVAL);
	tree_put(t, "f", "\n");
	assert_int_equal(cpuset_read_mask_file(path, &set), -EINVAL);
	assert_null(set);
	assert_int_equal(cpuset_read_list_file(path, &set), 0);
	assert_true(cpuset_empty(set));
	cpuset_free(set);
	tree_put(t, "f", "ff,00000001\n");
	assert_int_equal(cpuset_read_mask_file(path, &set), 0);
	assert_list(set, "0,32-39");
	cpuset_free(set);
	assert_int_equal(cpuset_read_list_file(t->dir, &set), -EISDIR);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_list_round_trip),
		cmocka_unit_test(test_mask_round_trip),
		cmocka_unit_test(test_mask_4096),
		cmocka_unit_test(test_list_mask_agree),
		cmocka_unit_test(test_parse_either),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_mask_malformed),
		cmocka_unit_test(test_huge_range_fast),
		cmocka_unit_test(test_set_operations),
		cmocka_unit_test_teardown(test_affinity_round_trip,
		    restore_affinity),
		cmocka_unit_test_teardown(test_allowed_ignores_affinity,
		    restore_affinity),
		cmocka_unit_test_setup_teardown(test_cgroup_v2,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_v2_unified,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_v1,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_none,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_errors,
		    tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_read_files,
		    tree_setup, tree_teardown),
	};
	int			 r;

	/* The affinity tests change this process's mask and put it back. */
	if (cpuset_get_affinity(0, &saved_affinity) != 0)
		unit_skip_all("sched_getaffinity refused");
	if (cpuset_set_affinity(0, saved_affinity) != 0) {
		cpuset_free(saved_affinity);
		unit_skip_all("sched_setaffinity refused");
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cpuset_free(saved_affinity);
	return r;
}
