/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CPU sets of any size: CPU lists ("0-3,8"), the kernel's hex masks
 * ("ff,00000001"), and affinity calls whose masks are sized at run time.
 */
#ifndef AFFINITYD_CPUSET_H
#define AFFINITYD_CPUSET_H

#include <stddef.h>
#include <sys/types.h>

/* The largest CPU number accepted from text; guards against "0-4000000000". */
#define CPUSET_MAX_CPUS	65536

struct cpuset;

/* cpuset.c: sets */
struct cpuset	*cpuset_new(void);
struct cpuset	*cpuset_dup(const struct cpuset *set);
void		 cpuset_free(struct cpuset *set);
int		 cpuset_add(struct cpuset *set, unsigned int cpu);
void		 cpuset_del(struct cpuset *set, unsigned int cpu);
int		 cpuset_has(const struct cpuset *set, unsigned int cpu);
unsigned int	 cpuset_count(const struct cpuset *set);
int		 cpuset_empty(const struct cpuset *set);
int		 cpuset_first(const struct cpuset *set);
int		 cpuset_next(const struct cpuset *set, int after);
int		 cpuset_last(const struct cpuset *set);
int		 cpuset_equal(const struct cpuset *a, const struct cpuset *b);
int		 cpuset_or(struct cpuset *dst, const struct cpuset *src);
void		 cpuset_and(struct cpuset *dst, const struct cpuset *src);
void		 cpuset_andnot(struct cpuset *dst, const struct cpuset *src);

#define CPUSET_FOREACH(cpu, set) \
	for ((cpu) = cpuset_first(set); (cpu) >= 0; \
	    (cpu) = cpuset_next((set), (cpu)))

/* cpuset.c: text; parse functions return 0 or -EINVAL/-ERANGE/-ENOMEM. */
int		 cpuset_parse_list(const char *text, struct cpuset **set);
int		 cpuset_parse_mask(const char *text, struct cpuset **set);
int		 cpuset_parse(const char *text, struct cpuset **set);
char		*cpuset_format_list(const struct cpuset *set);
char		*cpuset_format_mask(const struct cpuset *set);
int		 cpuset_read_list_file(const char *path, struct cpuset **set);
int		 cpuset_read_mask_file(const char *path, struct cpuset **set);

/* cpuset.c: the kernel's view; all return 0 or -errno. */
int		 cpuset_get_affinity(pid_t pid, struct cpuset **set);
int		 cpuset_set_affinity(pid_t pid, const struct cpuset *set);
int		 cpuset_online(const char *sysroot, struct cpuset **set);
int		 cpuset_possible(const char *sysroot, struct cpuset **set);
int		 cpuset_allowed(const char *sysroot, struct cpuset **set);
/*
 * The cpuset cgroup's CPUs read below root (proc/self/cgroup, sys/fs/cgroup)
 * and limited to root's online CPUs; *source (malloc'd, may be NULL) names
 * the file that decided, or the one that failed.
 */
int		 cpuset_allowed_at(const char *root, struct cpuset **set,
		    char **source);
int		 cpuset_cgroup_dir(const char *root, const char *controller,
		    char **dir);

#endif
