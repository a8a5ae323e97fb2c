// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory cgroup accounting of MMAP buffers: the pages of a queue's buffers
 * are charged to the memory cgroup of the process that allocates them, an
 * export keeps its buffer's charge after the queue frees its buffers, and
 * closing the last dma-buf file gives the charge back.
 *
 * The test moves itself into a cgroup v2 child of its own, reads
 * memory.current around each step, and moves back and removes the child
 * before it exits. Without cgroup v2 or its memory controller every check
 * is skipped.
 *
 * memory.current also counts pages the kernel keeps charged in per-CPU
 * stocks (up to 64 pages a CPU), so two readings can differ by that much
 * with no change in use; the export check allows for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "v4l2-lib.h"

#define WIDTH		640
#define HEIGHT		480
#define NBUFS		4
#define SLACK		(1024 * 1024)
#define NCHECKS		4
#define STOCK_PAGES	64

static const char *const names[NCHECKS] = {
	"buffer memory is charged to the allocating process's cgroup",
	"an exported buffer stays charged after REQBUFS(0)",
	"closing the last dma-buf returns the charge",
	"test cgroup removed after moving back to the root",
};

static char root[256];
static char child[PATH_MAX];
static bool joined;

/* Writes @val to the file @dir/@file. Returns 0 or -1 with errno set. */
static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	if (n != (ssize_t)strlen(val)) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

/* Reads @dir/@file into @out (NUL-terminated). Returns 0 or -1. */
static int cg_read(const char *dir, const char *file, char *out, size_t len)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* memory.current of the child cgroup in bytes, or -1. */
static long long mem_current(void)
{
	char buf[64];

	if (cg_read(child, "memory.current", buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Finds the cgroup2 mount point in /proc/mounts. Returns 0 or -1. */
static int find_cgroup2(char *out, size_t len)
{
	char line[1024], dev[256], dir[256], type[64];
	int ret = -1;
	FILE *f;

	f = fopen("/proc/mounts", "re");
	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %255s %63s", dev, dir, type) != 3)
			continue;
		if (!strcmp(type, "cgroup2")) {
			snprintf(out, len, "%s", dir);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* Moves the process back to the root cgroup and removes the child. */
static int leave_cgroup(void)
{
	char pid[32];
	int ret = 0;

	if (!child[0])
		return 0;
	if (joined) {
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		ret = cg_write(root, "cgroup.procs", pid);
		if (!ret)
			joined = false;
	}
	if (!ret) {
		ret = rmdir(child);
		if (!ret)
			child[0] = '\0';
	}
	return ret;
}

static void leave_at_exit(void)
{
	leave_cgroup();
}

static void on_signal(int sig)
{
	leave_cgroup();
	_exit(128 + sig);
}

static void skip_all(const char *why)
{
	unsigned int i;

	for (i = 0; i < NCHECKS; i++)
		tap_skip(why, "memcg: %s", names[i]);
}

/*
 * Creates a cgroup of our own below the cgroup2 root with the memory
 * controller and moves the process into it. Returns 0, or -1 with @why
 * saying why the checks must be skipped.
 */
static int enter_cgroup(char *why, size_t len)
{
	char buf[512], pid[32];

	if (find_cgroup2(root, sizeof(root))) {
		snprintf(why, len, "no cgroup2 mount in /proc/mounts");
		return -1;
	}
	if (cg_read(root, "cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory")) {
		snprintf(why, len, "no memory controller in %s", root);
		return -1;
	}
	if (cg_write(root, "cgroup.subtree_control", "+memory")) {
		snprintf(why, len, "cannot enable +memory in %s: %s", root,
			 strerror(errno));
		return -1;
	}
	snprintf(child, sizeof(child), "%s/vivid-expbuf-memcg-%d", root,
		 (int)getpid());
	if (mkdir(child, 0755)) {
		snprintf(why, len, "mkdir %s: %s", child, strerror(errno));
		child[0] = '\0';
		return -1;
	}
	atexit(leave_at_exit);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGALRM, on_signal);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (cg_write(child, "cgroup.procs", pid)) {
		snprintf(why, len, "cannot join %s: %s", child,
			 strerror(errno));
		leave_cgroup();
		return -1;
	}
	joined = true;
	if (mem_current() < 0) {
		snprintf(why, len, "no memory.current in %s", child);
		leave_cgroup();
		return -1;
	}
	return 0;
}

static void charge_checks(struct vlib_dev *d)
{
	long long base, full, kept, after;
	long long page = sysconf(_SC_PAGESIZE);
	long long one, total, stock;
	struct vlib_fmt fmt;
	int count, fd = -1;

	vlib_streamoff(d);
	vlib_reqbufs(d, V4L2_MEMORY_MMAP, 0, NULL);
	if (vlib_set_fmt(d, V4L2_PIX_FMT_XBGR32, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT XR24 %ux%u: %s", WIDTH, HEIGHT,
			 strerror(errno));
	one = ((long long)fmt.sizeimage[0] + page - 1) / page * page;
	stock = STOCK_PAGES * page * sysconf(_SC_NPROCESSORS_CONF);

	base = mem_current();
	count = vlib_reqbufs(d, V4L2_MEMORY_MMAP, NBUFS, NULL);
	if (count < 0)
		tap_diag("REQBUFS(%d): %s", NBUFS, strerror(errno));
	full = mem_current();
	total = count > 0 ? count * one : 0;
	tap_diag("memory.current %lld before, %lld after REQBUFS of %d x %lld bytes (+%lld)",
		 base, full, count, one, full - base);
	if (!tap_ok(count >= 1 && fmt.sizeimage[0] && base >= 0 &&
		    full - base >= total * 9 / 10, "memcg: %s", names[0]))
		tap_diag("expected growth >= %lld bytes", total * 9 / 10);

	fd = count >= 1 ? vlib_expbuf(d, 0, 0, O_CLOEXEC | O_RDWR) : -1;
	if (fd < 0)
		tap_diag("EXPBUF: %s", strerror(errno));
	if (vlib_reqbufs(d, V4L2_MEMORY_MMAP, 0, NULL))
		tap_diag("REQBUFS(0): %s", strerror(errno));
	kept = mem_current();
	tap_diag("memory.current %lld with one export kept (+%lld)", kept,
		 kept - base);
	if (!tap_ok(fd >= 0 && one && kept - base >= one - stock,
		    "memcg: %s", names[1]))
		tap_diag("expected >= %lld bytes above the baseline, less %lld of per-CPU stock",
			 one, stock);

	if (fd >= 0)
		close(fd);
	after = mem_current();
	tap_diag("memory.current %lld after closing the export (%+lld)",
		 after, after - base);
	if (!tap_ok(fd >= 0 && after >= 0 && after - base <= SLACK,
		    "memcg: %s", names[2]))
		tap_diag("expected within %d bytes of the baseline", SLACK);
}

int main(int argc, char **argv)
{
	struct vlib_dev d;
	char why[PATH_MAX + 128];
	int ret;

	vlib_start(argc, argv, &d, NULL);
	/* One result for each of names[]: checked or skipped. */
	tap_plan(NCHECKS);
	if (enter_cgroup(why, sizeof(why))) {
		skip_all(why);
		vlib_close(&d);
		return tap_done();
	}
	charge_checks(&d);
	vlib_close(&d);
	ret = leave_cgroup();
	if (!tap_ok(!ret, "memcg: %s", names[3]))
		tap_diag("moving back or rmdir: %s", strerror(errno));
	return tap_done();
}
