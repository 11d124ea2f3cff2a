/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/interrupts and /proc/irq/N: the CPU behind each count column, the
 * numbered IRQ rows with their counts and action names, and where an IRQ is
 * delivered.  Malformed rows are skipped with a warning for the caller to
 * log; only a missing CPU header makes the whole text unusable.
 */
#include "acconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cpuset.h"
#include "topology/irqmap.h"

#define IRQMAP_MAX_TEXT		(16 * 1024 * 1024)
#define IRQMAP_WARN_WIDTH	100

/*
 * Flow-handler suffixes the kernel prints after the chip name: "-edge" in
 * "PCI-MSI-edge" or "134463489-edge", "-event" in Xen's "xen-dyn    -event",
 * "-msi-x" in "xen-pirq-msi-x".  Action names follow that token.
 */
static const char *const irqmap_handlers[] = {
	"-edge", "-level", "-fasteoi", "-event", "-msi", "-msi-x", "-virq",
	"-ipi", "-simple", "-percpu", "-percpu_devid", "-eoi",
};

struct irqmap_parser {
	struct irqmap	*map;
	size_t		 cap;		/* lines allocated */
	int		 header;	/* CPU header seen */
	int		 unsorted;	/* a row came out of order */
};

static void
irqmap_warn(struct irqmap *map, size_t lineno, const char *why,
    const char *line, size_t len)
{
	char	 text[IRQMAP_WARN_WIDTH + 4];
	size_t	 i, n = 0;
	int	 space = 0;

	/* Collapse the column padding so a wide row stays readable. */
	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)line[i])) {
			space = n > 0;
			continue;
		}
		if (n + (size_t)space >= IRQMAP_WARN_WIDTH)
			break;
		if (space)
			text[n++] = ' ';
		space = 0;
		text[n++] = isprint((unsigned char)line[i]) ? line[i] : '?';
	}
	if (i < len) {
		memcpy(text + n, "...", 3);
		n += 3;
	}
	text[n] = '\0';
	(void)strv_addf(&map->warnings, "line %zu: %s: %s", lineno, why, text);
}

static int
irqmap_all_digits(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Next whitespace-separated token of [*pos, end); 0 when there is none. */
static int
irqmap_token(const char **pos, const char *end, const char **tok,
    size_t *toklen)
{
	const char	*p = *pos;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end) {
		*pos = p;
		return 0;
	}
	*tok = p;
	while (p < end && !isspace((unsigned char)*p))
		p++;
	*toklen = (size_t)(p - *tok);
	*pos = p;
	return 1;
}

/*
 * A header is a line of "CPU<n>" tokens only, in increasing order: one per
 * online CPU, so "CPU0 CPU2" means the second column counts CPU 2.
 * Returns 1 with the CPUs of the columns, 0 when not a header, -ENOMEM.
 */
static int
irqmap_header(const char *line, size_t len, unsigned int **cpusp, size_t *np)
{
	const char	*pos = line, *end = line + len, *tok;
	unsigned int	*cpus = NULL, *grown;
	size_t		 toklen, n = 0, cap = 0;
	char		 num[16];
	unsigned int	 cpu;

	while (irqmap_token(&pos, end, &tok, &toklen)) {
		if (toklen < 4 || toklen - 3 >= sizeof(num) ||
		    strncmp(tok, "CPU", 3) != 0 ||
		    !irqmap_all_digits(tok + 3, toklen - 3))
			goto no;
		memcpy(num, tok + 3, toklen - 3);
		num[toklen - 3] = '\0';
		if (parse_uint(num, CPUSET_MAX_CPUS - 1, &cpu) != 0 ||
		    (n > 0 && cpu <= cpus[n - 1]))
			goto no;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = reallocarray(cpus, cap,
			    sizeof(*cpus))) == NULL) {
				free(cpus);
				return -ENOMEM;
			}
			cpus = grown;
		}
		cpus[n++] = cpu;
	}
	if (n == 0)
		goto no;
	*cpusp = cpus;
	*np = n;
	return 1;
no:
	free(cpus);
	return 0;
}

static int
irqmap_handler_token(const char *tok, size_t len)
{
	size_t	 i, hlen;

	if ((len == 4 && memcmp(tok, "Edge", 4) == 0) ||
	    (len == 5 && memcmp(tok, "Level", 5) == 0))
		return 1;
	for (i = 0; i < ARRAY_SIZE(irqmap_handlers); i++) {
		hlen = strlen(irqmap_handlers[i]);
		if (len >= hlen &&
		    memcmp(tok + len - hlen, irqmap_handlers[i], hlen) == 0)
			return 1;
	}
	return 0;
}

/* Adds the ", "-separated names of s (trimmed, empty ones dropped). */
static int
irqmap_add_names(struct strv *names, const char *s)
{
	const char	*end;
	char		*name;
	size_t		 len;
	int		 r;

	while (*s != '\0') {
		if ((end = strstr(s, ", ")) == NULL)
			end = s + strlen(s);
		while (s < end && isspace((unsigned char)*s))
			s++;
		len = (size_t)(end - s);
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len > 0) {
			if ((name = strndup(s, len)) == NULL)
				return -ENOMEM;
			r = strv_add(names, name);
			free(name);
			if (r < 0)
				return r;
		}
		s = *end != '\0' ? end + 2 : end;
	}
	return 0;
}

/*
 * Splits the text after the counts into action names.  The chip part has a
 * variable number of tokens ("PCI-MSI-edge", "IR-PCI-MSI 134463489-edge",
 * "Hyper-V PCIe MSI 4138200989697-edge", "ITS-MSI 2623488 Edge"); the names
 * are what follows its flow-handler token.  Without such a token the last
 * token is taken, as irqbalance does, unless it is a lone token (the chip)
 * or a number (a hwirq, as in a row cut after "ITS-MSI 2623488").
 */
static int
irqmap_split_names(struct irq_line *l)
{
	const char	*pos = l->tail, *end = l->tail + strlen(l->tail);
	const char	*tok, *last = NULL, *next;
	size_t		 toklen, lastlen = 0, ntok = 0;
	char		*name;
	int		 r;

	while (irqmap_token(&pos, end, &tok, &toklen)) {
		if (irqmap_handler_token(tok, toklen)) {
			/* "xen-percpu    -virq": the detached one is it. */
			next = pos;
			while (irqmap_token(&next, end, &tok, &toklen) &&
			    tok[0] == '-' && irqmap_handler_token(tok, toklen))
				pos = next;
			return irqmap_add_names(&l->names, pos);
		}
		last = tok;
		lastlen = toklen;
		ntok++;
	}
	if (ntok < 2 || irqmap_all_digits(last, lastlen))
		return 0;
	if ((name = strndup(last, lastlen)) == NULL)
		return -ENOMEM;
	r = strv_add(&l->names, name);
	free(name);
	return r;
}

static void
irqmap_line_clear(struct irq_line *l)
{
	free(l->counts);
	free(l->tail);
	strv_free(&l->names);
}

/*
 * Reads the counts of a row, one per CPU column.  Returns 0, with why[0]
 * set when the row is malformed, or -ENOMEM.
 */
static int
irqmap_counts(const struct irqmap *map, struct irq_line *l, const char **pos,
    const char *end, char *why, size_t whylen)
{
	const char	*tok, *next;
	size_t		 toklen;
	char		 num[32], *numend;

	if ((l->counts = calloc(map->ncolumns, sizeof(*l->counts))) == NULL)
		return -ENOMEM;
	for (next = *pos; irqmap_token(&next, end, &tok, &toklen);
	    *pos = next) {
		if (!irqmap_all_digits(tok, toklen))
			break;
		if (l->ncounts == map->ncolumns) {
			snprintf(why, whylen, "more counts than the %zu CPU "
			    "columns", map->ncolumns);
			return 0;
		}
		errno = 0;
		if (toklen < sizeof(num)) {
			memcpy(num, tok, toklen);
			num[toklen] = '\0';
			l->counts[l->ncounts] = strtoull(num, &numend, 10);
		}
		if (toklen >= sizeof(num) || errno != 0) {
			snprintf(why, whylen, "count %zu out of range",
			    l->ncounts + 1);
			return 0;
		}
		l->ncounts++;
	}
	next = *pos;
	if (l->ncounts < map->ncolumns) {
		if (irqmap_token(&next, end, &tok, &toklen))
			snprintf(why, whylen, "count %zu of %zu is not a "
			    "number", l->ncounts + 1, map->ncolumns);
		else
			snprintf(why, whylen, "only %zu of %zu counts",
			    l->ncounts, map->ncolumns);
	}
	return 0;
}

/* True for an architecture row label such as "NMI", "LOC" or "IPI0". */
static int
irqmap_arch_label(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int
irqmap_find_index(const struct irqmap *map, unsigned int irq, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < map->nlines; i++)
		if (map->lines[i].irq == irq) {
			*idx = i;
			return 1;
		}
	return 0;
}

static int
irqmap_add_line(struct irqmap_parser *p, struct irq_line *l)
{
	struct irqmap	*map = p->map;
	struct irq_line	*grown;

	if (map->nlines == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		if ((grown = reallocarray(map->lines, p->cap,
		    sizeof(*grown))) == NULL)
			return -ENOMEM;
		map->lines = grown;
	}
	if (map->nlines > 0 && l->irq < map->lines[map->nlines - 1].irq)
		p->unsorted = 1;
	map->lines[map->nlines++] = *l;
	return 0;
}

/* One numbered row "N: counts... chip... names"; 0 also when skipped. */
static int
irqmap_row(struct irqmap_parser *p, size_t lineno, const char *line,
    size_t len)
{
	struct irqmap	*map = p->map;
	struct irq_line	 l;
	const char	*colon, *start = line, *end = line + len, *pos;
	char		 num[16], why[96] = "";
	size_t		 plen, dup;
	int		 r;

	while (start < end && isspace((unsigned char)*start))
		start++;
	if (start == end)
		return 0;
	if ((colon = memchr(start, ':', (size_t)(end - start))) == NULL) {
		irqmap_warn(map, lineno, "no IRQ number", line, len);
		return 0;
	}
	for (plen = (size_t)(colon - start);
	    plen > 0 && isspace((unsigned char)start[plen - 1]); plen--)
		;
	if (!irqmap_all_digits(start, plen)) {
		if (!irqmap_arch_label(start, plen))
			irqmap_warn(map, lineno, "not an IRQ number", line,
			    len);
		return 0;
	}
	memset(&l, 0, sizeof(l));
	if (plen >= sizeof(num)) {
		irqmap_warn(map, lineno, "IRQ number out of range", line, len);
		return 0;
	}
	memcpy(num, start, plen);
	num[plen] = '\0';
	if (parse_uint(num, UINT_MAX, &l.irq) != 0) {
		irqmap_warn(map, lineno, "IRQ number out of range", line, len);
		return 0;
	}
	if (map->nlines > 0 && l.irq <= map->lines[map->nlines - 1].irq &&
	    irqmap_find_index(map, l.irq, &dup)) {
		irqmap_warn(map, lineno, "IRQ listed twice", line, len);
		return 0;
	}
	pos = colon + 1;
	if ((r = irqmap_counts(map, &l, &pos, end, why, sizeof(why))) < 0)
		goto bad;
	if (why[0] != '\0') {
		irqmap_warn(map, lineno, why, line, len);
		irqmap_line_clear(&l);
		return 0;
	}
	while (pos < end && isspace((unsigned char)*pos))
		pos++;
	while (end > pos && isspace((unsigned char)end[-1]))
		end--;
	r = -ENOMEM;
	if ((l.tail = strndup(pos, (size_t)(end - pos))) == NULL)
		goto bad;
	if ((r = irqmap_split_names(&l)) < 0 ||
	    (r = irqmap_add_line(p, &l)) < 0)
		goto bad;
	return 0;
bad:
	irqmap_line_clear(&l);
	return r;
}

static int
irqmap_line_cmp(const void *a, const void *b)
{
	const struct irq_line	*la = a, *lb = b;

	return la->irq < lb->irq ? -1 : la->irq > lb->irq;
}

static int
irqmap_text_line(struct irqmap_parser *p, size_t lineno, const char *line,
    size_t len)
{
	unsigned int	*cpus;
	size_t		 i, n;
	int		 r;

	for (i = 0; i < len && isspace((unsigned char)line[i]); i++)
		;
	if (i == len)
		return 0;
	if ((r = irqmap_header(line, len, &cpus, &n)) < 0)
		return r;
	if (r == 1 && p->header) {
		/* Rows were counted against the first header: keep it. */
		free(cpus);
		irqmap_warn(p->map, lineno, "second CPU header", line, len);
		return 0;
	}
	if (r == 1) {
		p->map->column_cpu = cpus;
		p->map->ncolumns = n;
		p->header = 1;
		return 0;
	}
	if (!p->header) {
		irqmap_warn(p->map, lineno, "before the CPU header", line, len);
		return 0;
	}
	return irqmap_row(p, lineno, line, len);
}

/*
 * Parses the text of /proc/interrupts.  Returns 0, -EINVAL when there is no
 * CPU header line, -ENOMEM.  Rows it cannot read are listed in warnings.
 */
int
irqmap_parse(const char *text, struct irqmap **mapp)
{
	struct irqmap_parser	 p;
	struct irqmap		*map;
	const char		*line, *nl;
	size_t			 lineno = 0, len;
	int			 r = 0;

	if ((map = calloc(1, sizeof(*map))) == NULL)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
	p.map = map;
	for (line = text; r == 0 && *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		r = irqmap_text_line(&p, ++lineno, line, len);
		if (nl == NULL)
			break;
	}
	if (r == 0 && !p.header)
		r = -EINVAL;
	if (r < 0) {
		irqmap_free(map);
		return r;
	}
	if (p.unsorted)
		qsort(map->lines, map->nlines, sizeof(*map->lines),
		    irqmap_line_cmp);
	*mapp = map;
	return 0;
}

/* Reads and parses proc/interrupts below sysroot; 0 or -errno. */
int
irqmap_read(const char *sysroot, struct irqmap **map)
{
	char	*path, *text;
	int	 r;

	if ((path = sysroot_path(sysroot, "proc/interrupts")) == NULL)
		return -ENOMEM;
	r = read_file(path, &text, IRQMAP_MAX_TEXT);
	free(path);
	if (r < 0)
		return r;
	r = irqmap_parse(text, map);
	free(text);
	return r;
}

void
irqmap_free(struct irqmap *map)
{
	size_t	 i;

	if (map == NULL)
		return;
	for (i = 0; i < map->nlines; i++)
		irqmap_line_clear(&map->lines[i]);
	free(map->lines);
	free(map->column_cpu);
	strv_free(&map->warnings);
	free(map);
}

const struct irq_line *
irqmap_find(const struct irqmap *map, unsigned int irq)
{
	struct irq_line	 key;

	if (map == NULL || map->nlines == 0)
		return NULL;
	key.irq = irq;
	return bsearch(&key, map->lines, map->nlines, sizeof(*map->lines),
	    irqmap_line_cmp);
}

static int
irqmap_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The action names of an IRQ from the directories of proc/irq/N: the kernel
 * makes one per action, named exactly as the action, beside plain files
 * such as smp_affinity.  Names are appended to an empty strv, sorted; on
 * failure the strv is left empty.  Returns 0 or -errno (-ENOENT: no IRQ N).
 */
int
irqmap_actions(const char *sysroot, unsigned int irq, struct strv *names)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir;
	char		*path;
	int		 fd, r = 0;

	if ((path = sysroot_path(sysroot, "proc/irq/%u", irq)) == NULL)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return -errno;
	if ((dir = fdopendir(fd)) == NULL) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
			if (fstatat(fd, de->d_name, &st, 0) == -1 ||
			    !S_ISDIR(st.st_mode))
				continue;
		} else if (de->d_type != DT_DIR)
			continue;
		if ((r = strv_add(names, de->d_name)) < 0)
			break;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(dir);
	if (r < 0) {
		strv_free(names);
		return r;
	}
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), irqmap_name_cmp);
	return 0;
}

/*
 * The action names of an IRQ: its proc/irq/N directories when there are
 * any (exact, no parsing involved), else the names parsed from the map.
 * Returns 0 (names may be empty for an IRQ without action) or -ENOENT when
 * neither source knows the IRQ, -ENOMEM.
 */
int
irqmap_names(const char *sysroot, const struct irqmap *map, unsigned int irq,
    struct strv *names)
{
	const struct irq_line	*l;
	size_t			 i;
	int			 r, found;

	r = irqmap_actions(sysroot, irq, names);
	if (r == -ENOMEM)
		return r;
	found = r == 0;
	if (found && names->n > 0)
		return 0;
	if ((l = irqmap_find(map, irq)) == NULL)
		return found ? 0 : -ENOENT;
	for (i = 0; i < l->names.n; i++)
		if ((r = strv_add(names, l->names.v[i])) < 0) {
			strv_free(names);
			return r;
		}
	return 0;
}

/*
 * Appends to *cand every action name of the IRQs listed (all rows when
 * irqs is NULL) and, for each row with text after its counts, that text as
 * well: a name split wrongly by the parser then still matches a pattern
 * anchored at the end of the line.  The strings point into map.
 */
int
irqmap_candidates(const struct irqmap *map, const unsigned int *irqs,
    size_t nirqs, struct irqname_candidate **cand, size_t *ncand)
{
	struct irqname_candidate	*out = NULL, *grown;
	const struct irq_line		*l;
	size_t				 i, j, n = 0, cap = 0, count;
	int				 tail;

	count = irqs != NULL ? nirqs : map->nlines;
	for (i = 0; i < count; i++) {
		l = irqs != NULL ? irqmap_find(map, irqs[i]) : &map->lines[i];
		if (l == NULL || l->tail[0] == '\0')
			continue;
		tail = l->names.n != 1 || strcmp(l->names.v[0], l->tail) != 0;
		if (n + l->names.n + 1 > cap) {
			cap = (n + l->names.n + 1) * 2;
			if ((grown = reallocarray(out, cap,
			    sizeof(*out))) == NULL) {
				free(out);
				return -ENOMEM;
			}
			out = grown;
		}
		for (j = 0; j < l->names.n; j++) {
			out[n].irq = l->irq;
			out[n++].name = l->names.v[j];
		}
		if (tail) {
			out[n].irq = l->irq;
			out[n++].name = l->tail;
		}
	}
	*cand = out;
	*ncand = n;
	return 0;
}

/*
 * Reads one affinity file: 1 with a non-empty set, 0 when the file is
 * missing or holds no CPU (effective_affinity_list of old kernels), -errno.
 */
static int
irqmap_affinity_file(const char *sysroot, unsigned int irq, const char *file,
    int mask, struct cpuset **cpus)
{
	struct cpuset	*set = NULL;
	char		*path;
	int		 r;

	if ((path = sysroot_path(sysroot, "proc/irq/%u/%s", irq,
	    file)) == NULL)
		return -ENOMEM;
	r = mask ? cpuset_read_mask_file(path, &set) :
	    cpuset_read_list_file(path, &set);
	free(path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (cpuset_empty(set)) {
		cpuset_free(set);
		return 0;
	}
	*cpus = set;
	return 1;
}

/*
 * Where IRQ N is delivered: effective_affinity_list, else smp_affinity_list,
 * else the hex smp_affinity.  *source_file names the file used or, on
 * failure, the file at fault.  Returns 0, -ENOENT when none of them exists
 * or holds a CPU, -EINVAL when one is malformed, other -errno.
 */
int
irqmap_affinity(const char *sysroot, unsigned int irq, struct cpuset **cpus,
    const char **source_file)
{
	static const struct {
		const char	*file;
		int		 mask;
	} files[] = {
		{ "effective_affinity_list", 0 },
		{ "smp_affinity_list", 0 },
		{ "smp_affinity", 1 },
	};
	size_t	 i;
	int	 r;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		*source_file = files[i].file;
		r = irqmap_affinity_file(sysroot, irq, files[i].file,
		    files[i].mask, cpus);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return -ENOENT;
}
