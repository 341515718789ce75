/*
 * runner: times two commands run by run, alternating, for scripts/bench.sh.
 *
 *   runner [-n RUNS] [-w WARMUP] [-s SETUP] [-d DIR] [-t TIMES]
 *          NAME STDIN PARALLEL EXPECT CMD [ARGS...] [::: NAME STDIN ...]
 *
 * Each side is NAME (a label), STDIN (a file given to the command on its
 * standard input), PARALLEL (how many copies start at once; the wall time
 * is until the last one ends), EXPECT (a string every copy's standard
 * output must contain; "" for none) and the command. A second side follows
 * ":::". After WARMUP untimed runs of each side, RUNS timed runs of each
 * side alternate A, B, A, B. SETUP, when given, is a /bin/sh command run
 * (untimed) before every run of either side: "rm -rf DIR" for cold runs.
 *
 * Timing: CLOCK_MONOTONIC from just before the first fork to just after
 * the last wait4. Peak RSS: ru_maxrss from wait4 (the largest of a set),
 * which also counts the few pages of this process the child had before it
 * called exec (the same for both sides; see docs/performance.md).
 * With -t, every timed run is also appended to TIMES as NAME<TAB>RUN<TAB>us.
 *
 * Every run must exit 0 and print EXPECT; otherwise the runner stops with
 * the command's standard error and exit status 1. Standard output, per
 * side, one line:
 *   NAME<TAB>median_us<TAB>min_us<TAB>p90_us<TAB>max_rss_kib<TAB>runs
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARALLEL 256

struct side {
	const char *name;
	const char *stdin_path;
	int parallel;
	const char *expect;
	char **argv;
	int64_t *us;     /* timed runs */
	int runs;
	long max_rss_kib;
};

static const char *dir = ".";
static const char *setup;
static FILE *times;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
	fprintf(stderr, "runner: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void out_path(char *buf, size_t size, const struct side *s, int i, const char *ext)
{
	snprintf(buf, size, "%s/%s.%d.%s", dir, s->name, i, ext);
}

static void run_setup(void)
{
	int status;

	if (!setup)
		return;
	status = system(setup);
	if (status != 0) {
		fprintf(stderr, "runner: setup command failed (status %d): %s\n", status, setup);
		exit(1);
	}
}

static pid_t start(const struct side *s, int i)
{
	char out[4096], err[4096];
	pid_t pid;

	out_path(out, sizeof(out), s, i, "out");
	out_path(err, sizeof(err), s, i, "err");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int in = open(s->stdin_path, O_RDONLY | O_CLOEXEC);
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 ||
		    dup2(e, 2) < 0)
			_exit(126);
		execvp(s->argv[0], s->argv);
		_exit(127);
	}
	return pid;
}

/* Whether the file holds needle (small outputs only). */
static int file_contains(const char *path, const char *needle)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void show_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	close(fd);
}

/* One run of a side: all copies at once; returns the wall time in us. */
static int64_t run_once(struct side *s, long *rss_kib)
{
	pid_t pids[MAX_PARALLEL];
	int64_t t0, t1;
	int i, left, failed = -1, failed_status = 0;

	run_setup();
	t0 = now_us();
	for (i = 0; i < s->parallel; i++)
		pids[i] = start(s, i);
	*rss_kib = 0;
	for (left = s->parallel; left > 0; left--) {
		struct rusage ru;
		int status;
		pid_t pid = wait4(-1, &status, 0, &ru);

		if (pid < 0)
			die("wait4");
		if (ru.ru_maxrss > *rss_kib)
			*rss_kib = ru.ru_maxrss;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			for (i = 0; i < s->parallel; i++)
				if (pids[i] == pid)
					failed = i;
			failed_status = status;
		}
	}
	t1 = now_us();
	for (i = 0; i < s->parallel && failed < 0 && *s->expect; i++) {
		char out[4096];

		out_path(out, sizeof(out), s, i, "out");
		if (!file_contains(out, s->expect)) {
			failed = i;
			failed_status = 0;
		}
	}
	if (failed >= 0) {
		char err[4096];

		out_path(err, sizeof(err), s, failed, "err");
		fprintf(stderr, "runner: %s (copy %d) failed (wait status %d, or no \"%s\" on stdout); its stderr:\n",
			s->name, failed, failed_status, s->expect);
		show_file(err);
		exit(1);
	}
	return t1 - t0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t median(const int64_t *sorted, int n)
{
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void report(struct side *s)
{
	qsort(s->us, (size_t)s->runs, sizeof(*s->us), cmp64);
	printf("%s\t%lld\t%lld\t%lld\t%ld\t%d\n", s->name, (long long)median(s->us, s->runs),
		(long long)s->us[0], (long long)s->us[(s->runs * 9) / 10 - (s->runs >= 10)],
		s->max_rss_kib, s->runs);
}

/* Parses one side from argv; returns the index after it. */
static int parse_side(struct side *s, int argc, char **argv, int i)
{
	int j;

	if (argc - i < 5) {
		fprintf(stderr, "runner: a side needs NAME STDIN PARALLEL EXPECT CMD\n");
		exit(2);
	}
	s->name = argv[i];
	s->stdin_path = argv[i + 1];
	s->parallel = atoi(argv[i + 2]);
	s->expect = argv[i + 3];
	if (s->parallel < 1 || s->parallel > MAX_PARALLEL || strchr(s->name, '/')) {
		fprintf(stderr, "runner: bad side %s (PARALLEL 1..%d, NAME without '/')\n",
			s->name, MAX_PARALLEL);
		exit(2);
	}
	s->argv = argv + i + 4;
	for (j = i + 4; j < argc && strcmp(argv[j], ":::"); j++)
		;
	if (j < argc)
		argv[j] = NULL; /* end of this side's argv */
	return j + 1;
}

int main(int argc, char **argv)
{
	struct side sides[2];
	int runs = 50, warmup = 5, nsides = 0, opt, i, k;

	memset(sides, 0, sizeof(sides));
	while ((opt = getopt(argc, argv, "+n:w:s:d:t:")) != -1) {
		switch (opt) {
		case 'n': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 's': setup = optarg; break;
		case 'd': dir = optarg; break;
		case 't':
			if (!(times = fopen(optarg, "a")))
				die(optarg);
			break;
		default:
			fprintf(stderr, "usage: runner [-n RUNS] [-w WARMUP] [-s SETUP] [-d DIR] [-t TIMES] "
				"NAME STDIN PARALLEL EXPECT CMD... [::: NAME STDIN PARALLEL EXPECT CMD...]\n");
			return 2;
		}
	}
	if (runs < 1 || warmup < 0) {
		fprintf(stderr, "runner: RUNS must be at least 1\n");
		return 2;
	}
	for (i = optind; i < argc && nsides < 2; nsides++)
		i = parse_side(&sides[nsides], argc, argv, i);
	if (nsides == 0) {
		fprintf(stderr, "runner: nothing to run\n");
		return 2;
	}
	for (k = 0; k < nsides; k++)
		if (!(sides[k].us = calloc((size_t)runs, sizeof(int64_t))))
			die("calloc");

	for (i = 0; i < warmup; i++)
		for (k = 0; k < nsides; k++) {
			long rss;

			run_once(&sides[k], &rss);
		}
	for (i = 0; i < runs; i++)
		for (k = 0; k < nsides; k++) {
			long rss;

			sides[k].us[sides[k].runs++] = run_once(&sides[k], &rss);
			if (times)
				fprintf(times, "%s\t%d\t%lld\n", sides[k].name, i,
					(long long)sides[k].us[sides[k].runs - 1]);
			if (rss > sides[k].max_rss_kib)
				sides[k].max_rss_kib = rss;
		}
	for (k = 0; k < nsides; k++)
		report(&sides[k]);
	if (times)
		fclose(times);
	return 0;
}
