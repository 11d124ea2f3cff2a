/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU sets of any size: a growable bitmap, the kernel's CPU list and hex
 * mask formats, and the affinity calls with masks sized at run time.  It
 * also decides which CPUs the daemon may use: its cpuset's, never the
 * affinity mask it inherited.  Functions return 0 or a negative errno and
 * log nothing; the caller names the text or file that was wrong.
 */
#include "acconfig.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cpuset.h"
#include "common/util.h"

#define CPUSET_WBITS	(sizeof(unsigned long) * CHAR_BIT)

/* The kernel prints masks in groups of 32 bits (bitmap_print_to_pagebuf). */
#define CPUSET_GROUP_BITS	32
#define CPUSET_GROUP_DIGITS	8

/* Bound on the doubling of the sched_getaffinity(2) mask. */
#define CPUSET_AFFINITY_MAX	(1U << 20)

struct cpuset {
	unsigned long	*bits;
	size_t		 nwords;
};

struct cpuset *
cpuset_new(void)
{
	return calloc(1, sizeof(struct cpuset));
}

struct cpuset *
cpuset_dup(const struct cpuset *set)
{
	struct cpuset	*copy;

	if ((copy = cpuset_new()) == NULL)
		return NULL;
	if (set->nwords > 0) {
		copy->bits = calloc(set->nwords, sizeof(*copy->bits));
		if (copy->bits == NULL) {
			free(copy);
			return NULL;
		}
		memcpy(copy->bits, set->bits, set->nwords * sizeof(*set->bits));
		copy->nwords = set->nwords;
	}
	return copy;
}

void
cpuset_free(struct cpuset *set)
{
	if (set == NULL)
		return;
	free(set->bits);
	free(set);
}

/* Makes room for CPU number cpu; new words are zero. */
static int
cpuset_grow(struct cpuset *set, unsigned int cpu)
{
	unsigned long	*grown;
	size_t		 nwords;

	if (cpu >= CPUSET_MAX_CPUS)
		return -ERANGE;
	nwords = cpu / CPUSET_WBITS + 1;
	if (nwords <= set->nwords)
		return 0;
	if ((grown = realloc(set->bits, nwords * sizeof(*grown))) == NULL)
		return -ENOMEM;
	memset(grown + set->nwords, 0,
	    (nwords - set->nwords) * sizeof(*grown));
	set->bits = grown;
	set->nwords = nwords;
	return 0;
}

int
cpuset_add(struct cpuset *set, unsigned int cpu)
{
	int	 r;

	if ((r = cpuset_grow(set, cpu)) < 0)
		return r;
	set->bits[cpu / CPUSET_WBITS] |= 1UL << (cpu % CPUSET_WBITS);
	return 0;
}

void
cpuset_del(struct cpuset *set, unsigned int cpu)
{
	if (cpu / CPUSET_WBITS < set->nwords)
		set->bits[cpu / CPUSET_WBITS] &= ~(1UL << (cpu % CPUSET_WBITS));
}

int
cpuset_has(const struct cpuset *set, unsigned int cpu)
{
	if (cpu / CPUSET_WBITS >= set->nwords)
		return 0;
	return (set->bits[cpu / CPUSET_WBITS] >> (cpu % CPUSET_WBITS)) & 1;
}

unsigned int
cpuset_count(const struct cpuset *set)
{
	unsigned int	 n = 0;
	size_t		 i;

	for (i = 0; i < set->nwords; i++)
		n += (unsigned int)__builtin_popcountl(set->bits[i]);
	return n;
}

int
cpuset_empty(const struct cpuset *set)
{
	return cpuset_first(set) < 0;
}

int
cpuset_first(const struct cpuset *set)
{
	return cpuset_next(set, -1);
}

/* The lowest CPU above after, or -1. */
int
cpuset_next(const struct cpuset *set, int after)
{
	unsigned long	 word;
	size_t		 i;
	unsigned int	 from;

	from = after < 0 ? 0 : (unsigned int)after + 1;
	i = from / CPUSET_WBITS;
	if (i >= set->nwords)
		return -1;
	word = set->bits[i] & (~0UL << (from % CPUSET_WBITS));
	for (;;) {
		if (word != 0)
			return (int)(i * CPUSET_WBITS) + __builtin_ctzl(word);
		if (++i >= set->nwords)
			return -1;
		word = set->bits[i];
	}
}

int
cpuset_last(const struct cpuset *set)
{
	size_t	 i;

	for (i = set->nwords; i > 0; i--) {
		if (set->bits[i - 1] != 0)
			return (int)(i * CPUSET_WBITS - 1) -
			    __builtin_clzl(set->bits[i - 1]);
	}
	return -1;
}

/* Sets of different allocated sizes are equal when their CPUs are. */
int
cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	const struct cpuset	*longer = a->nwords > b->nwords ? a : b;
	size_t			 i, common;

	common = a->nwords < b->nwords ? a->nwords : b->nwords;
	for (i = 0; i < common; i++)
		if (a->bits[i] != b->bits[i])
			return 0;
	for (; i < longer->nwords; i++)
		if (longer->bits[i] != 0)
			return 0;
	return 1;
}

int
cpuset_or(struct cpuset *dst, const struct cpuset *src)
{
	size_t	 i;
	int	 last, r;

	if ((last = cpuset_last(src)) < 0)
		return 0;
	if ((r = cpuset_grow(dst, (unsigned int)last)) < 0)
		return r;
	for (i = 0; i <= (size_t)last / CPUSET_WBITS; i++)
		dst->bits[i] |= src->bits[i];
	return 0;
}

void
cpuset_and(struct cpuset *dst, const struct cpuset *src)
{
	size_t	 i;

	for (i = 0; i < dst->nwords; i++)
		dst->bits[i] &= i < src->nwords ? src->bits[i] : 0;
}

void
cpuset_andnot(struct cpuset *dst, const struct cpuset *src)
{
	size_t	 i;

	for (i = 0; i < dst->nwords && i < src->nwords; i++)
		dst->bits[i] &= ~src->bits[i];
}

/* Adds first..last, every group CPUs taking the first used of them. */
static int
cpuset_add_range(struct cpuset *set, unsigned int first, unsigned int last,
    unsigned int used, unsigned int group)
{
	unsigned int	 cpu, base;
	int		 r;

	if ((r = cpuset_grow(set, last)) < 0)
		return r;
	for (base = first; base <= last; base += group) {
		for (cpu = base; cpu <= last && cpu - base < used; cpu++)
			set->bits[cpu / CPUSET_WBITS] |=
			    1UL << (cpu % CPUSET_WBITS);
	}
	return 0;
}

/*
 * Reads a decimal number at *p.  Digits past CPUSET_MAX_CPUS are consumed
 * but not accumulated, so "0-4000000000" costs nothing before -ERANGE.
 */
static int
cpuset_parse_number(const char **p, unsigned int *value)
{
	unsigned int	 n = 0;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	for (; isdigit((unsigned char)**p); (*p)++) {
		if (n < CPUSET_MAX_CPUS)
			n = n * 10 + (unsigned int)(**p - '0');
	}
	if (n >= CPUSET_MAX_CPUS)
		return -ERANGE;
	*value = n;
	return 0;
}

/* One item of a list: "N", "A-B" or "A-B:used/group" (bitmap_parselist). */
static int
cpuset_parse_item(const char **p, struct cpuset *set)
{
	unsigned int	 first, last, used = 1, group = 1;
	int		 r;

	while (isblank((unsigned char)**p))
		(*p)++;
	if ((r = cpuset_parse_number(p, &first)) < 0)
		return r;
	last = first;
	if (**p == '-') {
		(*p)++;
		if ((r = cpuset_parse_number(p, &last)) < 0)
			return r;
		if (last < first)
			return -EINVAL;
		used = group = last - first + 1;
		if (**p == ':') {
			(*p)++;
			if ((r = cpuset_parse_number(p, &used)) < 0)
				return r;
			if (**p != '/')
				return -EINVAL;
			(*p)++;
			if ((r = cpuset_parse_number(p, &group)) < 0)
				return r;
			if (group == 0 || used > group)
				return -EINVAL;
		}
	}
	while (isblank((unsigned char)**p))
		(*p)++;
	return cpuset_add_range(set, first, last, used, group);
}

int
cpuset_parse_list(const char *text, struct cpuset **setp)
{
	struct cpuset	*set;
	const char	*p = text;
	int		 r;

	if ((set = cpuset_new()) == NULL)
		return -ENOMEM;
	while (isspace((unsigned char)*p))
		p++;
	while (*p != '\0') {
		if ((r = cpuset_parse_item(&p, set)) < 0)
			goto bad;
		if (*p == ',' && p[1] != '\0') {
			p++;
			continue;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '\0') {
			r = -EINVAL;
			goto bad;
		}
	}
	*setp = set;
	return 0;
bad:
	cpuset_free(set);
	return r;
}

/*
 * Checks hex groups between start and end: one to maxdigits hex digits
 * each, separated by single commas.
 */
static int
cpuset_check_hex(const char *start, const char *end, size_t maxdigits)
{
	const char	*p;
	size_t		 ndigits = 0;

	for (p = start; p < end; p++) {
		if (*p == ',') {
			if (ndigits == 0)
				return -EINVAL;
			ndigits = 0;
		} else if (isxdigit((unsigned char)*p)) {
			if (++ndigits > maxdigits)
				return -EINVAL;
		} else
			return -EINVAL;
	}
	return ndigits == 0 ? -EINVAL : 0;
}

/* Adds the bits of one hex digit whose lowest bit is CPU base. */
static int
cpuset_add_nibble(struct cpuset *set, char digit, size_t base)
{
	unsigned int	 value, b;
	int		 r;

	value = (unsigned int)(isdigit((unsigned char)digit) ? digit - '0' :
	    tolower((unsigned char)digit) - 'a' + 10);
	for (b = 0; b < 4; b++) {
		if ((value & (1U << b)) == 0)
			continue;
		if (base + b >= CPUSET_MAX_CPUS)
			return -ERANGE;
		if ((r = cpuset_add(set, (unsigned int)(base + b))) < 0)
			return r;
	}
	return 0;
}

/*
 * Parses hex groups, most significant first, 32 bits a group; trailing
 * blanks and a newline are allowed.  With
 * long_group a mask without commas may have any number of digits, as
 * taskset(1) writes it.
 */
static int
cpuset_parse_hex(const char *text, int long_group, struct cpuset **setp)
{
	struct cpuset	*set;
	const char	*start = text, *end, *p;
	size_t		 maxdigits = CPUSET_GROUP_DIGITS, group = 0, digit = 0;
	int		 r;

	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (long_group && memchr(start, ',', (size_t)(end - start)) == NULL)
		maxdigits = SIZE_MAX;
	if ((r = cpuset_check_hex(start, end, maxdigits)) < 0)
		return r;
	if ((set = cpuset_new()) == NULL)
		return -ENOMEM;
	for (p = end; p > start; p--) {
		if (p[-1] == ',') {
			group++;
			digit = 0;
			continue;
		}
		r = cpuset_add_nibble(set, p[-1],
		    group * CPUSET_GROUP_BITS + digit++ * 4);
		if (r < 0) {
			cpuset_free(set);
			return r;
		}
	}
	*setp = set;
	return 0;
}

int
cpuset_parse_mask(const char *text, struct cpuset **setp)
{
	while (isspace((unsigned char)*text))
		text++;
	return cpuset_parse_hex(text, 0, setp);
}

/* "0x..." is a mask, anything else a list. */
int
cpuset_parse(const char *text, struct cpuset **setp)
{
	const char	*p = text;

	while (isspace((unsigned char)*p))
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return cpuset_parse_hex(p + 2, 1, setp);
	return cpuset_parse_list(text, setp);
}

/* "0-3,8,10-11"; "" for an empty set. */
char *
cpuset_format_list(const struct cpuset *set)
{
	char	*buf;
	size_t	 size, len = 0;
	int	 first, last;

	/* At most one run per CPU, each "65535-65535," at the longest. */
	size = (size_t)cpuset_count(set) * 12 + 1;
	if ((buf = malloc(size)) == NULL)
		return NULL;
	buf[0] = '\0';
	for (first = cpuset_first(set); first >= 0;
	    first = cpuset_next(set, last)) {
		last = first;
		while (cpuset_has(set, (unsigned int)last + 1))
			last++;
		if (last == first)
			len += (size_t)snprintf(buf + len, size - len, "%s%d",
			    len ? "," : "", first);
		else
			len += (size_t)snprintf(buf + len, size - len,
			    "%s%d-%d", len ? "," : "", first, last);
	}
	return buf;
}

/* The 32 bits of group g. */
static uint32_t
cpuset_group(const struct cpuset *set, size_t g)
{
	size_t	 bit = g * CPUSET_GROUP_BITS;

	if (bit / CPUSET_WBITS >= set->nwords)
		return 0;
	return (uint32_t)(set->bits[bit / CPUSET_WBITS] >>
	    (bit % CPUSET_WBITS));
}

/*
 * The kernel's style: eight hex digits a group, most significant first,
 * as many groups as the highest CPU needs and at least one.
 */
char *
cpuset_format_mask(const struct cpuset *set)
{
	char	*buf, *p;
	size_t	 ngroups, g;
	int	 last;

	last = cpuset_last(set);
	ngroups = last < 0 ? 1 : (size_t)last / CPUSET_GROUP_BITS + 1;
	if ((buf = malloc(ngroups * (CPUSET_GROUP_DIGITS + 1))) == NULL)
		return NULL;
	p = buf;
	for (g = ngroups; g > 0; g--) {
		p += snprintf(p, CPUSET_GROUP_DIGITS + 2, "%08" PRIx32 "%s",
		    cpuset_group(set, g - 1), g > 1 ? "," : "");
	}
	return buf;
}

/* Bad content is -EINVAL whatever the parser said, I/O errors stay. */
static int
cpuset_read_file(const char *path, int (*parse)(const char *,
    struct cpuset **), struct cpuset **setp)
{
	char	*line;
	int	 r;

	if ((r = read_file_line(path, &line)) < 0)
		return r;
	r = parse(line, setp);
	free(line);
	if (r < 0 && r != -ENOMEM)
		r = -EINVAL;
	return r;
}

int
cpuset_read_list_file(const char *path, struct cpuset **setp)
{
	return cpuset_read_file(path, cpuset_parse_list, setp);
}

int
cpuset_read_mask_file(const char *path, struct cpuset **setp)
{
	return cpuset_read_file(path, cpuset_parse_mask, setp);
}

static int
cpuset_read_sys(const char *sysroot, const char *name, struct cpuset **setp)
{
	char	*path;
	int	 r;

	path = sysroot_path(sysroot, "sys/devices/system/cpu/%s", name);
	if (path == NULL)
		return -ENOMEM;
	r = cpuset_read_list_file(path, setp);
	free(path);
	return r;
}

int
cpuset_online(const char *sysroot, struct cpuset **setp)
{
	return cpuset_read_sys(sysroot, "online", setp);
}

int
cpuset_possible(const char *sysroot, struct cpuset **setp)
{
	return cpuset_read_sys(sysroot, "possible", setp);
}

/* How many CPUs an affinity mask must hold at least: the possible ones. */
static unsigned int
cpuset_possible_count(void)
{
	struct cpuset	*possible;
	int		 last = -1;

	if (cpuset_possible("/", &possible) == 0) {
		last = cpuset_last(possible);
		cpuset_free(possible);
	}
	return last < 0 ? CPU_SETSIZE : (unsigned int)last + 1;
}

/*
 * The kernel refuses a mask smaller than its own with EINVAL, so the mask
 * doubles until it fits (sched_setaffinity(2), "Handling systems with
 * large CPU affinity masks").
 */
int
cpuset_get_affinity(pid_t pid, struct cpuset **setp)
{
	struct cpuset	*set;
	cpu_set_t	*mask;
	size_t		 size;
	unsigned int	 ncpus, cpu;
	int		 r;

	for (ncpus = cpuset_possible_count();; ncpus *= 2) {
		if ((mask = CPU_ALLOC(ncpus)) == NULL)
			return -ENOMEM;
		size = CPU_ALLOC_SIZE(ncpus);
		CPU_ZERO_S(size, mask);
		if (sched_getaffinity(pid, size, mask) == 0)
			break;
		r = -errno;
		CPU_FREE(mask);
		if (r != -EINVAL || ncpus >= CPUSET_AFFINITY_MAX)
			return r;
	}
	r = -ENOMEM;
	if ((set = cpuset_new()) == NULL)
		goto out;
	for (cpu = 0; cpu < size * CHAR_BIT; cpu++) {
		if (!CPU_ISSET_S(cpu, size, mask))
			continue;
		if ((r = cpuset_add(set, cpu)) < 0)
			goto out;
	}
	*setp = set;
	set = NULL;
	r = 0;
out:
	cpuset_free(set);
	CPU_FREE(mask);
	return r;
}

/* The mask covers the possible CPUs and the set; the kernel wants both. */
int
cpuset_set_affinity(pid_t pid, const struct cpuset *set)
{
	cpu_set_t	*mask;
	size_t		 size;
	unsigned int	 ncpus;
	int		 cpu, r = 0;

	if ((cpu = cpuset_last(set)) < 0)
		return -EINVAL;
	ncpus = cpuset_possible_count();
	if ((unsigned int)cpu + 1 > ncpus)
		ncpus = (unsigned int)cpu + 1;
	if ((mask = CPU_ALLOC(ncpus)) == NULL)
		return -ENOMEM;
	size = CPU_ALLOC_SIZE(ncpus);
	CPU_ZERO_S(size, mask);
	CPUSET_FOREACH(cpu, set)
		CPU_SET_S((unsigned int)cpu, size, mask);
	if (sched_setaffinity(pid, size, mask) == -1)
		r = -errno;
	CPU_FREE(mask);
	return r;
}

/*
 * Reads the first readable, non-empty CPU list among the given file names
 * in cgroup directory dir or, failing that, its parents: a cgroup v2 child
 * without the cpuset controller runs on its nearest ancestor's CPUs.
 * Returns 1 and the set, 0 when no file was found, or -EINVAL/-ENOMEM
 * with *source naming the file.
 */
static int
cpuset_cgroup_walk(const char *root, const char *mount, const char *dir,
    const char *const *names, struct cpuset **setp, char **source)
{
	struct cpuset	*set;
	char		*path, *cut, *file;
	size_t		 i, len;
	int		 r;

	if ((path = strdup(dir)) == NULL)
		return -ENOMEM;
	/* A path outside our view ("/../x") means the mount's own root. */
	len = strlen(path);
	if (path[0] != '/' || strstr(path, "/../") != NULL ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		path[0] = '\0';
	while ((cut = strrchr(path, '/')) != NULL && cut[1] == '\0')
		*cut = '\0';
	for (;;) {
		for (i = 0; names[i] != NULL; i++) {
			file = sysroot_path(root, "%s%s/%s", mount, path,
			    names[i]);
			if (file == NULL) {
				free(path);
				return -ENOMEM;
			}
			r = cpuset_read_list_file(file, &set);
			if (r == 0 && cpuset_empty(set))
				cpuset_free(set);
			else if (r == 0 || r == -EINVAL || r == -ENOMEM) {
				free(path);
				*source = file;
				if (r < 0)
					return r;
				*setp = set;
				return 1;
			}
			free(file);
		}
		if (path[0] == '\0')
			break;
		if ((cut = strrchr(path, '/')) != NULL)
			*cut = '\0';
		else
			path[0] = '\0';
	}
	free(path);
	return 0;
}

/* Whether word is one of the comma-separated names in list[0..len). */
static int
cpuset_list_has(const char *list, size_t len, const char *word)
{
	size_t	 n, wlen = strlen(word);

	while (len > 0) {
		n = strcspn(list, ",");
		if (n > len)
			n = len;
		if (n == wlen && memcmp(list, word, n) == 0)
			return 1;
		if (n == len)
			break;
		list += n + 1;
		len -= n + 1;
	}
	return 0;
}

/*
 * The cgroup path in /proc/PID/cgroup text for the v2 hierarchy ("0::PATH",
 * controller "") or for the v1 hierarchy holding controller
 * ("3:cpuset:PATH").  Returns 1 and the path, 0 if none, or -ENOMEM.
 */
static int
cpuset_cgroup_path(const char *text, const char *controller, char **path)
{
	const char	*line, *ctl, *end;
	size_t		 len;

	for (line = text; *line != '\0'; line += len + (line[len] != '\0')) {
		len = strcspn(line, "\n");
		if ((ctl = memchr(line, ':', len)) == NULL)
			continue;
		ctl++;
		end = memchr(ctl, ':', len - (size_t)(ctl - line));
		if (end == NULL)
			continue;
		if (controller[0] == '\0' ? end != ctl :
		    !cpuset_list_has(ctl, (size_t)(end - ctl), controller))
			continue;
		end++;
		if ((*path = strndup(end, len - (size_t)(end - line))) == NULL)
			return -ENOMEM;
		return 1;
	}
	return 0;
}

/*
 * The cgroup directory of this process for a controller ("" for the v2
 * hierarchy) from proc/self/cgroup below root: 1 found (*dir malloc'd),
 * 0 none or unreadable, or -ENOMEM.
 */
int
cpuset_cgroup_dir(const char *root, const char *controller, char **dir)
{
	char	*file, *text;
	int	 r;

	if ((file = sysroot_path(root, "proc/self/cgroup")) == NULL)
		return -ENOMEM;
	r = read_file(file, &text, 1 << 20);
	free(file);
	if (r < 0)
		return 0;
	r = cpuset_cgroup_path(text, controller, dir);
	free(text);
	return r;
}

/* The cgroup v2 path of this process, then its CPUs under either mount. */
static int
cpuset_cgroup_v2(const char *root, struct cpuset **setp, char **source)
{
	static const char *const	 names[] = {
		"cpuset.cpus.effective", NULL
	};
	char				*dir;
	int				 r;

	if ((r = cpuset_cgroup_dir(root, "", &dir)) <= 0)
		return r;
	/* Hybrid systems mount the v2 hierarchy at "unified". */
	r = cpuset_cgroup_walk(root, "sys/fs/cgroup", dir, names, setp,
	    source);
	if (r == 0)
		r = cpuset_cgroup_walk(root, "sys/fs/cgroup/unified", dir,
		    names, setp, source);
	free(dir);
	return r;
}

/* The cgroup v1 cpuset path of this process, then its CPUs. */
static int
cpuset_cgroup_v1(const char *root, struct cpuset **setp, char **source)
{
	static const char *const	 names[] = {
		"cpuset.effective_cpus", "cpuset.cpus", NULL
	};
	char				*file, *dir = NULL;
	int				 r;

	if ((file = sysroot_path(root, "proc/self/cpuset")) == NULL)
		return -ENOMEM;
	r = read_file_line(file, &dir);
	free(file);
	/* Kernels without CONFIG_PROC_PID_CPUSET. */
	if (r < 0 && (r = cpuset_cgroup_dir(root, "cpuset", &dir)) <= 0)
		return r;
	r = cpuset_cgroup_walk(root, "sys/fs/cgroup/cpuset", dir, names, setp,
	    source);
	free(dir);
	return r;
}

/*
 * The CPUs of this process's cpuset below root, intersected with the
 * online CPUs there: cgroup v2, then v1, else the online CPUs.  An empty
 * intersection counts as no answer.  *source, if not NULL, receives the
 * file that decided, or on -EINVAL the file that was malformed.
 */
int
cpuset_allowed_at(const char *root, struct cpuset **setp, char **source)
{
	struct cpuset	*online = NULL, *set = NULL;
	char		*file = NULL;
	int		 r;

	if ((r = cpuset_cgroup_v2(root, &set, &file)) == 0)
		r = cpuset_cgroup_v1(root, &set, &file);
	if (r < 0)
		goto out;
	r = cpuset_online(root, &online);
	if (r == 0 && set != NULL) {
		cpuset_and(set, online);
		if (!cpuset_empty(set))
			goto out;
	}
	/* No answer from a cgroup: the online CPUs, or why they failed. */
	cpuset_free(set);
	set = online;
	online = NULL;
	free(file);
	file = sysroot_path(root, "sys/devices/system/cpu/online");
	if (file == NULL && r == 0)
		r = -ENOMEM;
out:
	cpuset_free(online);
	if (r == 0)
		*setp = set;
	else
		cpuset_free(set);
	if (source != NULL)
		*source = file;
	else
		free(file);
	return r;
}

/*
 * The CPUs the daemon may use.  Under a sysroot, that tree's online CPUs,
 * since this process's cgroup describes another machine.  Never the
 * inherited affinity: under boot binding (CPUAffinity= in system.conf)
 * that is the housekeeping set, where workers must not go.
 */
int
cpuset_allowed(const char *sysroot, struct cpuset **setp)
{
	if (sysroot != NULL && strcmp(sysroot, "/") != 0)
		return cpuset_online(sysroot, setp);
	return cpuset_allowed_at("/", setp, NULL);
}
