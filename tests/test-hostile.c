// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile and careless clients: regression tests for holes in the queue
 * ownership, the fences and the memory bound that a well-behaved client
 * never hits. Each check is built so that the race or the misuse happens
 * for sure (SCHED_IDLE for the thread that must lose a race, one CPU hog
 * per CPU beside it, many rounds, separate processes where the promise is
 * about file handles); every blocking call is bounded.
 *
 * mmap during REQBUFS: while the owner loops REQBUFS(32)/REQBUFS(0) with
 * 1920x1080 buffers, another process maps offset 0 through its own handle
 * of the node. No such mmap() may succeed: the buffers are the owner's
 * from the moment they exist.
 *
 * Fence of a buffer queued before STREAMON: a queued but not streaming
 * capture buffer must not put a pending write fence into its dma-buf (it
 * would stay pending for as long as userspace likes); the dma-buf polls
 * readable and EXPORT_SYNC_FILE gives a signalled sync_file. After
 * STREAMON the frame still arrives with its fence signalled.
 *
 * Pinnable mmap: a V4L2 mmap() of a capture buffer must be VM_PFNMAP like
 * the dma-buf mmap(), so that its pages cannot be pinned past the free of
 * the buffer (and past the memory limit): vmsplice() of it fails, and so
 * does a USERPTR QBUF of it on the instance's output queue.
 *
 * Cancelled fences: STREAMOFF with exported buffers queued signals their
 * write fences with ECANCELED (the error cannot be read back: a signalled
 * fence is never exported, so only "signalled" is checked). Importing
 * those dma-bufs into the output later must not return the output
 * buffers as ERROR: only a fence that fails while the output waits for it
 * means a bad frame.
 *
 * One memory limit: mem_limit_mb bounds the buffer memory of the whole
 * module. With a small limit, orphaned buffers on this instance fill it
 * and a REQBUFS on the other instance must fail with ENOMEM.
 *
 * DQBUF across owners: thread A of the owner sleeps in a blocking DQBUF
 * (SCHED_IDLE, bound to CPU 0 beside a hog); another thread gives the
 * queue up (STREAMOFF, REQBUFS(0)) and another process B, opened and
 * waiting beforehand, takes it and streams. A's DQBUF must
 * fail and never return B's buffer; B must get all its frames. On a
 * multi-planar node the last round lets B set the 2-plane NV12M while A
 * waits with a 1-plane array: a DQBUF that returns then reports 2 planes,
 * written into the kernel's copy of A's 1-plane array (a heap overflow,
 * which KASAN reports on a debug kernel). Those rounds run last and stop
 * at the first DQBUF that returns, so the overflow happens once at most.
 *
 * A refused DMABUF QBUF keeping its dma-buf is not tested here: the only
 * refusals userspace can cause (bad fd, access, size) happen before the
 * import attaches; the ones after it (mapping, kernel address, the
 * driver's buf_prepare) cannot be reached with our exporter or vgem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "sync-lib.h"
#include "v4l2-lib.h"

#define PLAN		13
#define WATCHDOG_SEC	120

#define SMALL_W		320
#define SMALL_H		240

#define STEAL_ROUNDS	40
#define STEAL_SEC	22
#define STEAL_BUFS	2
#define PLANES_ROUNDS	10
#define CANARY_LEN	64
#define CANARY_BYTE	0xa5

#define MAP_ROUNDS	40
#define MAP_SEC		12
#define MAP_BUFS	32
#define MAP_W		1920
#define MAP_H		1080

#define CANCEL_BUFS	4

#define LIMIT_PARAM	"/sys/module/vivid_expbuf/parameters/mem_limit_mb"
#define LIMIT_MB	16
#define LIMIT_W		1280
#define LIMIT_H		720

static struct vlib_dev cap;
static char out_path[64];
static bool have_out;

static double elapsed_since(double t0)
{
	return vlib_now_sec() - t0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------ helpers */

/* Ends the program if some bound was missed after all. */
static void *watchdog(void *arg)
{
	(void)arg;
	sleep(WATCHDOG_SEC);
	tap_diag("still running after %u s, giving up", WATCHDOG_SEC);
	_exit(1);
}

static atomic_bool hogs_stop;
static pthread_t hogs[16];
static unsigned int n_hogs;

/* Binds the calling thread to CPU @cpu. */
static void pin_cpu(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *hog(void *arg)
{
	pin_cpu((unsigned int)(uintptr_t)arg);
	while (!atomic_load_explicit(&hogs_stop, memory_order_relaxed))
		;
	return NULL;
}

/* One busy thread on each CPU, so that a SCHED_IDLE thread does not run. */
static void hogs_start(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	if (cpus > (long)ARRAY_SIZE(hogs))
		cpus = ARRAY_SIZE(hogs);
	atomic_store(&hogs_stop, false);
	for (n_hogs = 0; n_hogs < cpus; n_hogs++)
		if (pthread_create(&hogs[n_hogs], NULL, hog,
				   (void *)(uintptr_t)n_hogs))
			break;
}

static void hogs_end(void)
{
	unsigned int i;

	atomic_store(&hogs_stop, true);
	for (i = 0; i < n_hogs; i++)
		pthread_join(hogs[i], NULL);
	n_hogs = 0;
}

/* Waits up to @secs for child @pid; kills it then. Its status or -1. */
static int child_wait(pid_t pid, unsigned int secs)
{
	double t0 = vlib_now_sec();
	int status;
	pid_t ret;

	do {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return status;
		sleep_ms(10);
	} while (ret == 0 && elapsed_since(t0) < secs);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static int child_exit_code(int status)
{
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Waits up to @ms for a byte or the end of the pipe @fd. */
static void pipe_ready(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, ms) < 0 && errno == EINTR)
		;
}

static int open_node(struct vlib_dev *d, const char *path)
{
	if (vlib_open(d, path, 0)) {
		tap_diag("open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Sets a 1-plane YUYV format of @w x @h and 30 fps. */
static int set_yuyv(struct vlib_dev *d, uint32_t w, uint32_t h,
		    struct vlib_fmt *f)
{
	if (vlib_set_fmt(d, V4L2_PIX_FMT_YUYV, w, h, f) ||
	    vlib_set_fps(d, 1, 30)) {
		tap_diag("%s: S_FMT/S_PARM: %s", d->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void free_queue(struct vlib_dev *d, uint32_t memory)
{
	vlib_streamoff(d);
	vlib_reqbufs(d, memory, 0, NULL);
}

static void close_all(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* ------------------------------------------------ mmap during REQBUFS */

struct map_shared {
	atomic_bool stop;
	atomic_long tries;
	atomic_long with_bufs;
	atomic_long mapped;
};

/*
 * The non-owner process: maps offset 0 of its own handle until told. An
 * mmap() that met buffers either mapped them (the bug) or was refused
 * with EBUSY, the owner check; with no buffers it fails with EINVAL. It
 * takes no ioctl: those wait for the queue lock, which the owner's REQBUFS
 * holds, and would keep the mmap() calls out of the allocation window.
 */
static void map_child(struct map_shared *sh, size_t len)
{
	struct vlib_dev d;
	void *p;

	alarm(MAP_SEC + 20);
	if (vlib_open(&d, cap.path, 0))
		_exit(2);
	while (!atomic_load(&sh->stop)) {
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, d.fd, 0);
		if (p != MAP_FAILED) {
			sh->mapped++;
			sh->with_bufs++;
			munmap(p, len);
		} else if (errno == EBUSY) {
			sh->with_bufs++;
		}
		sh->tries++;
	}
	_exit(0);
}

/* The owner: REQBUFS(32), 20 ms, REQBUFS(0) rounds; returns rounds with buffers. */
static unsigned int map_owner_rounds(unsigned int *rounds)
{
	double t0 = vlib_now_sec();
	unsigned int with = 0;
	int n;

	for (*rounds = 0; *rounds < MAP_ROUNDS && elapsed_since(t0) < MAP_SEC;
	     (*rounds)++) {
		n = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, MAP_BUFS, NULL);
		/*
		 * Keep the buffers a moment, so that the child's mmap() also
		 * meets them once allocated (EBUSY) on a slow kernel, where
		 * each of its calls takes longer than a REQBUFS(0).
		 */
		if (n > 0) {
			with++;
			usleep(20000);
		}
		vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
	}
	return with;
}

static void check_mmap_during_reqbufs(void)
{
	const char *t1 =
		"hostile: no non-owner mmap() succeeds while the owner's REQBUFS allocates";
	const char *t2 =
		"hostile: the non-owner's mmap() calls met the owner's buffers";
	unsigned int rounds = 0, with = 0;
	struct map_shared *sh;
	struct vlib_fmt f;
	size_t len;
	pid_t pid;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	free_queue(&cap, V4L2_MEMORY_MMAP);
	if (sh == MAP_FAILED || set_yuyv(&cap, MAP_W, MAP_H, &f)) {
		tap_ok(false, "%s", t1);
		tap_ok(false, "%s", t2);
		if (sh != MAP_FAILED)
			munmap(sh, sizeof(*sh));
		return;
	}
	memset(sh, 0, sizeof(*sh));
	len = (f.sizeimage[0] + 4095) & ~(size_t)4095;
	pid = fork();
	if (pid == 0)
		map_child(sh, len);
	if (pid > 0)
		with = map_owner_rounds(&rounds);
	atomic_store(&sh->stop, true);
	if (pid > 0)
		child_wait(pid, 10);
	tap_diag("%ux%u: %u rounds, %u with buffers; %ld mmap() calls, %ld met buffers, %ld mapped",
		 f.width, f.height, rounds, with, (long)sh->tries,
		 (long)sh->with_bufs, (long)sh->mapped);
	tap_ok(pid > 0 && sh->mapped == 0, "%s", t1);
	tap_ok(pid > 0 && with > 0 && sh->with_bufs > 0, "%s", t2);
	munmap(sh, sizeof(*sh));
}

/* ------------------------------------ fence of a buffer not streaming */

static void check_fence_before_streamon(void)
{
	const char *t1 =
		"hostile: a buffer queued before STREAMON leaves its dma-buf readable";
	const char *t2 =
		"hostile: EXPORT_SYNC_FILE before STREAMON gives a signalled sync_file";
	const char *t3 =
		"hostile: after STREAMON the buffer is filled and its fence signalled at DQBUF";
	int fds[2] = { -1, -1 }, sync_fd, st = SYNC_NO_STATUS, ready = -1;
	int sync_ready = -1;
	struct vlib_frame fr;
	bool frame = false;
	int n = -1, i;

	if (!set_yuyv(&cap, SMALL_W, SMALL_H, NULL))
		n = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 2, NULL);
	for (i = 0; i < 2 && n >= 2; i++) {
		fds[i] = vlib_expbuf(&cap, i, 0, O_RDWR | O_CLOEXEC);
		if (fds[i] < 0 || vlib_qbuf_mmap(&cap, i))
			n = -1;
	}
	if (n >= 2) {
		ready = sync_poll(fds[0], POLLIN, 2000);
		sync_fd = sync_export(fds[0], DMA_BUF_SYNC_WRITE);
		sync_ready = sync_poll(sync_fd, POLLIN, 0);
		st = sync_status(sync_fd);
		if (sync_fd >= 0)
			close(sync_fd);
	}
	if (!tap_ok(ready == 1, "%s", t1))
		tap_diag("poll(POLLIN, 2000 ms) on the dma-buf: %d (setup %s)",
			 ready, n >= 2 ? "ok" : strerror(errno));
	if (!tap_ok(sync_ready == 1 && st == 1, "%s", t2))
		tap_diag("sync_file poll %d, status %d (1 = signalled, 0 = pending)",
			 sync_ready, st);

	if (n >= 2 && !vlib_streamon(&cap) &&
	    !vlib_dqbuf(&cap, V4L2_MEMORY_MMAP, &fr, VLIB_DQBUF_TIMEOUT_MS) &&
	    fr.buf.index < 2) {
		sync_fd = sync_export(fds[fr.buf.index], DMA_BUF_SYNC_WRITE);
		st = sync_status(sync_fd);
		frame = !(fr.buf.flags & V4L2_BUF_FLAG_ERROR) &&
			fr.bytesused[0] > 0 && st == 1;
		if (sync_fd >= 0)
			close(sync_fd);
	}
	if (!tap_ok(frame, "%s", t3))
		tap_diag("frame: %s, fence status %d", strerror(errno), st);
	free_queue(&cap, V4L2_MEMORY_MMAP);
	close_all(fds, 2);
}

/* ------------------------------------------------- pinnable V4L2 mmap */

/* vmsplice() of one page of @addr into a pipe: what it returned. */
static int try_vmsplice(void *addr, int *err)
{
	struct iovec iov = { .iov_base = addr, .iov_len = 4096 };
	char drain[4096];
	int p[2], ret;

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
		*err = errno;
		return -2;
	}
	ret = vmsplice(p[1], &iov, 1, SPLICE_F_NONBLOCK);
	*err = errno;
	while (read(p[0], drain, sizeof(drain)) > 0)
		;
	close(p[0]);
	close(p[1]);
	return ret;
}

static const char userptr_title[] =
	"hostile: USERPTR QBUF of a V4L2 mmap of a capture buffer is refused";

/* USERPTR QBUF on the output of the capture mapping @buf. */
static void userptr_of_mapping(const struct vlib_buf *buf)
{
	const char *t = userptr_title;
	struct vlib_buf ubuf = *buf;
	struct vlib_dev out;
	struct vlib_fmt f;
	int ret, err;

	if (!have_out || open_node(&out, out_path)) {
		tap_skip("no output node", "%s", t);
		return;
	}
	if (!vlib_has_userptr(&out)) {
		tap_skip("output queue takes no USERPTR", "%s", t);
		vlib_close(&out);
		return;
	}
	ret = -2;
	err = 0;
	if (!set_yuyv(&out, SMALL_W, SMALL_H, &f) &&
	    vlib_reqbufs(&out, V4L2_MEMORY_USERPTR, 1, NULL) > 0) {
		ubuf.num_planes = 1;
		ubuf.length[0] = f.sizeimage[0];
		ret = vlib_qbuf_userptr(&out, 0, &ubuf);
		err = errno;
	}
	if (!tap_ok(ret == -1 && (err == EFAULT || err == EINVAL), "%s", t))
		tap_diag("QBUF(USERPTR): %s", ret == -2 ? "setup failed" :
			 tap_errname(ret, err));
	free_queue(&out, V4L2_MEMORY_USERPTR);
	vlib_close(&out);
}

static void check_pinnable_mmap(void)
{
	const char *t =
		"hostile: vmsplice() of a V4L2 mmap of a capture buffer fails";
	struct vlib_buf buf;
	int ret = -2, err = 0;

	memset(&buf, 0, sizeof(buf));
	if (!set_yuyv(&cap, SMALL_W, SMALL_H, NULL) &&
	    vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 1, NULL) > 0 &&
	    !vlib_mmap_buf(&cap, 0, &buf))
		ret = try_vmsplice(buf.start[0], &err);
	if (!tap_ok(ret == -1 && err == EFAULT, "%s", t))
		tap_diag("vmsplice: %s", ret == -2 ? "setup failed" :
			 tap_errname(ret, err));
	if (buf.mmapped)
		userptr_of_mapping(&buf);
	else
		tap_ok(false, "%s", userptr_title);
	vlib_unmap_buf(&buf);
	free_queue(&cap, V4L2_MEMORY_MMAP);
}

/* ------------------------------------------- cancelled fences, output */

/* Exports and queues @n capture buffers, STREAMON, STREAMOFF at once. */
static int cancel_captures(int *fds, unsigned int n)
{
	unsigned int i;

	if (vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, n, NULL) != (int)n)
		return -1;
	for (i = 0; i < n; i++) {
		fds[i] = vlib_expbuf(&cap, i, 0, O_RDWR | O_CLOEXEC);
		if (fds[i] < 0 || vlib_qbuf_mmap(&cap, i))
			return -1;
	}
	if (vlib_streamon(&cap) || vlib_streamoff(&cap))
		return -1;
	return 0;
}

/*
 * Counts the dma-bufs of @fds without a pending write fence. (A signalled
 * fence is never exported, so its error cannot be seen here.)
 */
static unsigned int fences_signalled(const int *fds, unsigned int n)
{
	unsigned int done = 0;
	unsigned int i;
	int s, st;

	for (i = 0; i < n; i++) {
		s = sync_export(fds[i], DMA_BUF_SYNC_WRITE);
		st = sync_status(s);
		done += st == 1 || (st < 0 && st != SYNC_NO_STATUS);
		if (s >= 0)
			close(s);
	}
	return done;
}

/* Streams @fds through output @out; counts the buffers back and ERROR. */
static void stream_imports(struct vlib_dev *out, const int *fds,
			   unsigned int n, unsigned int *back,
			   unsigned int *errors)
{
	struct vlib_frame fr;
	unsigned int i;

	*back = 0;
	*errors = 0;
	if (vlib_reqbufs(out, V4L2_MEMORY_DMABUF, n, NULL) < (int)n)
		return;
	for (i = 0; i < n; i++)
		if (vlib_qbuf_dmabuf(out, i, &fds[i], 1, NULL))
			return;
	if (vlib_streamon(out))
		return;
	for (i = 0; i < n; i++) {
		if (vlib_dqbuf(out, V4L2_MEMORY_DMABUF, &fr,
			       VLIB_DQBUF_TIMEOUT_MS))
			break;
		(*back)++;
		*errors += !!(fr.buf.flags & V4L2_BUF_FLAG_ERROR);
	}
}

static void check_cancelled_fences(void)
{
	const char *t1 =
		"hostile: STREAMOFF signalled the write fences of the queued exports";
	const char *t2 =
		"hostile: imports with old cancelled fences come back without ERROR";
	int fds[CANCEL_BUFS] = { -1, -1, -1, -1 };
	unsigned int done = 0, back = 0, errors = 0;
	struct vlib_dev out;
	bool setup;

	if (!have_out || open_node(&out, out_path)) {
		tap_skip("no output node", "%s", t1);
		tap_skip("no output node", "%s", t2);
		return;
	}
	setup = !set_yuyv(&cap, SMALL_W, SMALL_H, NULL) &&
		!set_yuyv(&out, SMALL_W, SMALL_H, NULL) &&
		!cancel_captures(fds, CANCEL_BUFS);
	if (setup)
		done = fences_signalled(fds, CANCEL_BUFS);
	if (!tap_ok(setup && done == CANCEL_BUFS, "%s", t1))
		tap_diag("setup %s; %u of %u fences signalled",
			 setup ? "ok" : strerror(errno), done, CANCEL_BUFS);
	if (setup)
		stream_imports(&out, fds, CANCEL_BUFS, &back, &errors);
	if (!tap_ok(setup && back == CANCEL_BUFS && !errors, "%s", t2))
		tap_diag("%u of %u output buffers back, %u with V4L2_BUF_FLAG_ERROR",
			 back, CANCEL_BUFS, errors);
	free_queue(&out, V4L2_MEMORY_DMABUF);
	vlib_close(&out);
	free_queue(&cap, V4L2_MEMORY_MMAP);
	close_all(fds, CANCEL_BUFS);
}

/* ------------------------------------------------- one memory limit */

static int param_read(unsigned int *mb)
{
	FILE *f = fopen(LIMIT_PARAM, "r");
	int ret;

	if (!f)
		return -1;
	ret = fscanf(f, "%u", mb) == 1 ? 0 : -1;
	fclose(f);
	return ret;
}

static int param_write(unsigned int mb)
{
	FILE *f = fopen(LIMIT_PARAM, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%u\n", mb) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

/*
 * Allocates the queue's minimum, then one buffer at a time until refused;
 * returns how many.
 */
static unsigned int fill_limit(struct vlib_dev *d, int *err)
{
	struct v4l2_create_buffers cb;
	unsigned int n;
	int ret;

	ret = vlib_reqbufs(d, V4L2_MEMORY_MMAP, 1, NULL);
	if (ret < 1) {
		*err = errno;
		return 0;
	}
	for (n = ret; n < VLIB_MAX_BUFS; n++) {
		memset(&cb, 0, sizeof(cb));
		cb.count = 1;
		cb.memory = V4L2_MEMORY_MMAP;
		cb.format.type = d->type;
		if (xioctl(d->fd, VIDIOC_G_FMT, &cb.format) ||
		    xioctl(d->fd, VIDIOC_CREATE_BUFS, &cb) || cb.count != 1) {
			*err = errno;
			break;
		}
	}
	return n;
}

/* Fills the limit on this instance with orphans, then asks the other. */
static void limit_run(const char *other_path, int *fds, unsigned int *n,
		      int *ret, int *err)
{
	struct vlib_dev other;
	int fill_err = 0;
	unsigned int i;

	*n = 0;
	if (set_yuyv(&cap, LIMIT_W, LIMIT_H, NULL))
		return;
	*n = fill_limit(&cap, &fill_err);
	for (i = 0; i < *n; i++)
		fds[i] = vlib_expbuf(&cap, i, 0, O_RDWR | O_CLOEXEC);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
	tap_diag("this instance: %u orphaned %ux%u buffers, then %s", *n,
		 LIMIT_W, LIMIT_H, strerror(fill_err));
	if (open_node(&other, other_path))
		return;
	if (!set_yuyv(&other, LIMIT_W, LIMIT_H, NULL)) {
		*ret = vlib_reqbufs(&other, V4L2_MEMORY_MMAP, 1, NULL);
		*err = errno;
	}
	free_queue(&other, V4L2_MEMORY_MMAP);
	vlib_close(&other);
}

static void check_one_limit(void)
{
	const char *t =
		"hostile: orphans here and buffers of the other instance share mem_limit_mb";
	int fds[VLIB_MAX_BUFS], ret = -2, err = 0;
	unsigned int old, n = 0;
	char other[64];
	long pages = sysconf(_SC_PHYS_PAGES);

	memset(fds, -1, sizeof(fds));
	if (vlib_find_node("vivid-expbuf-", "-vid-cap", cap.path, other,
			   sizeof(other))) {
		tap_skip("no other instance", "%s", t);
		return;
	}
	if (param_read(&old) || param_write(LIMIT_MB)) {
		tap_skip("mem_limit_mb not writable", "%s", t);
		return;
	}
	tap_diag("mem_limit_mb was %u (0: RAM/4 = %ld MiB, per instance today), now %u",
		 old, pages > 0 ? pages / 4 * sysconf(_SC_PAGESIZE) >> 20 : -1L,
		 LIMIT_MB);
	limit_run(other, fds, &n, &ret, &err);
	if (!tap_ok(n > 0 && ret == -1 && err == ENOMEM, "%s", t))
		tap_diag("%u orphans here; REQBUFS(1) on %s: %s", n, other,
			 ret == -2 ? "setup failed" : tap_errname(ret, err));
	close_all(fds, VLIB_MAX_BUFS);
	if (param_write(old))
		tap_diag("cannot restore mem_limit_mb %u", old);
}

/* ----------------------------------------------- DQBUF across owners */

/**
 * struct stealer - thread A: a blocking DQBUF on the first owner's handle
 * @thread: the thread
 * @tid: its kernel thread id, for /proc/self/task/TID/stat
 * @started: set right before the DQBUF
 * @finished: set once the DQBUF returned
 * @ret: what DQBUF returned
 * @err: errno of DQBUF
 * @b: the buffer DQBUF filled in
 * @pl: the 1-plane array of a multi-planar DQBUF, and a canary after it
 */
struct stealer {
	pthread_t thread;
	atomic_int tid;
	atomic_bool started;
	atomic_bool finished;
	int ret;
	int err;
	struct v4l2_buffer b;
	struct {
		struct v4l2_plane plane[1];
		unsigned char canary[CANARY_LEN];
	} pl;
};

static void ignore_signal(int sig)
{
	(void)sig;
}

static void *stealer_fn(void *arg)
{
	struct stealer *s = arg;
	struct sched_param sp = { .sched_priority = 0 };

	s->tid = syscall(SYS_gettid);
	/* CPU 0 only, with hog 0: no idle CPU to migrate to. */
	pin_cpu(0);
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		tap_diag("SCHED_IDLE: %s", strerror(errno));
	memset(&s->b, 0, sizeof(s->b));
	memset(&s->pl, CANARY_BYTE, sizeof(s->pl));
	memset(s->pl.plane, 0, sizeof(s->pl.plane));
	s->b.type = cap.type;
	s->b.memory = V4L2_MEMORY_MMAP;
	if (cap.mplane) {
		s->b.m.planes = s->pl.plane;
		s->b.length = 1;
	}
	atomic_store(&s->started, true);
	/* No xioctl: SIGUSR1 must end the wait with EINTR. */
	s->ret = ioctl(cap.fd, VIDIOC_DQBUF, &s->b);
	s->err = errno;
	atomic_store(&s->finished, true);
	return NULL;
}

/* Waits up to 3 s until thread @tid sleeps (state S) in the kernel. */
static bool thread_sleeps(int tid)
{
	double t0 = vlib_now_sec();
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	while (elapsed_since(t0) < 3) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return true;
		sleep_ms(5);
	}
	return false;
}

/* Ends thread A: B's close woke it; else SIGUSR1 interrupts its DQBUF. */
static void stealer_end(struct stealer *s)
{
	double t0 = vlib_now_sec();

	while (!atomic_load(&s->finished) && elapsed_since(t0) < 3)
		sleep_ms(5);
	while (!atomic_load(&s->finished)) {
		pthread_kill(s->thread, SIGUSR1);
		sleep_ms(20);
	}
	pthread_join(s->thread, NULL);
}

/*
 * Process B: opens the node, waits for the go, takes the queue (YUYV and
 * 30 fps are set by A's handle already), streams its buffers (at least
 * STEAL_BUFS), lets them all complete, then dequeues them. Exit code: the number of
 * frames it did not get, or 100 + a setup step that failed.
 */
static void next_owner(int go_fd, int ready_fd, uint32_t fourcc)
{
	struct vlib_frame fr;
	struct vlib_dev d;
	int i, n, got = 0;
	char c;

	alarm(15);
	if (vlib_open(&d, cap.path, 0))
		_exit(100);
	/* Ready beforehand: the handover window is REQBUFS to STREAMON. */
	if (read(go_fd, &c, 1) != 1)
		_exit(106);
	if (fourcc != V4L2_PIX_FMT_YUYV &&
	    vlib_set_fmt(&d, fourcc, SMALL_W, SMALL_H, NULL))
		_exit(101);
	n = vlib_reqbufs(&d, V4L2_MEMORY_MMAP, STEAL_BUFS, NULL);
	if (n < STEAL_BUFS || n >= 100)
		_exit(102);
	for (i = 0; i < n; i++)
		if (vlib_qbuf_mmap(&d, i))
			_exit(103);
	if (vlib_streamon(&d))
		_exit(104);
	if (write(ready_fd, "S", 1) != 1)
		_exit(105);
	sleep_ms(200);
	for (i = 0; i < n; i++)
		if (!vlib_dqbuf(&d, V4L2_MEMORY_MMAP, &fr, 1500))
			got++;
	_exit(n - got);
}

/**
 * struct steal_result - what one round of the DQBUF race gave
 * @a_ret: thread A's DQBUF result (-2: the round did not get that far)
 * @a_err: its errno
 * @a_len: b.length A's DQBUF returned (planes reported, multi-planar)
 * @canary_ok: nothing written after A's 1-plane array
 * @a_index: index of the buffer A's DQBUF returned
 * @a_flags: flags of that buffer
 * @b_missing: frames B missed, B's setup failure (>= 100), or -1
 */
struct steal_result {
	int a_ret;
	int a_err;
	uint32_t a_len;
	uint32_t a_index;
	uint32_t a_flags;
	bool canary_ok;
	int b_missing;
};

static bool canary_intact(const struct stealer *s)
{
	unsigned int i;

	for (i = 0; i < CANARY_LEN; i++)
		if (s->pl.canary[i] != CANARY_BYTE)
			return false;
	return true;
}

/* A's handle owns the queue, streams, and has no buffer queued. */
static int first_owner_setup(void)
{
	if (vlib_set_fmt(&cap, V4L2_PIX_FMT_YUYV, SMALL_W, SMALL_H, NULL) ||
	    vlib_set_fps(&cap, 1, 30) ||
	    vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 1, NULL) < 1 ||
	    vlib_streamon(&cap))
		return -1;
	return 0;
}

/* Starts process B; @go and @ready are its pipes, the parent's ends. */
static pid_t next_owner_start(uint32_t fourcc, int *go, int *ready)
{
	int g[2], r[2];
	pid_t pid;

	if (pipe2(g, O_CLOEXEC))
		return -1;
	if (pipe2(r, O_CLOEXEC)) {
		close(g[0]);
		close(g[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(g[1]);
		close(r[0]);
		next_owner(g[0], r[1], fourcc);
	}
	close(g[0]);
	close(r[1]);
	*go = g[1];
	*ready = r[0];
	return pid;
}

/* The handover: A's handle gives the queue up and process B takes it. */
static void handover(int go, int ready)
{
	hogs_start();
	vlib_streamoff(&cap);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
	if (write(go, "G", 1) != 1)
		tap_diag("cannot start B: %s", strerror(errno));
	/* Once B streams, A may run: B's buffers are done when it wakes. */
	pipe_ready(ready, 5000);
	hogs_end();
}

static void steal_round(uint32_t fourcc, struct steal_result *r)
{
	int go = -1, ready = -1;
	struct stealer s;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	r->a_ret = -2;
	r->b_missing = -1;
	free_queue(&cap, V4L2_MEMORY_MMAP);
	if (first_owner_setup())
		return;
	pid = next_owner_start(fourcc, &go, &ready);
	if (pid < 0)
		return;
	if (pthread_create(&s.thread, NULL, stealer_fn, &s)) {
		close(go);
		close(ready);
		child_wait(pid, 1);
		return;
	}
	while (!atomic_load(&s.started) || !s.tid)
		sleep_ms(1);
	if (thread_sleeps(s.tid))
		handover(go, ready);
	else
		tap_diag("thread A did not block in DQBUF");
	close(go);
	close(ready);
	r->b_missing = child_exit_code(child_wait(pid, 10));
	free_queue(&cap, V4L2_MEMORY_MMAP);
	stealer_end(&s);
	r->a_ret = s.ret;
	r->a_err = s.err;
	r->a_len = s.b.length;
	r->a_index = s.b.index;
	r->a_flags = s.b.flags;
	r->canary_ok = canary_intact(&s);
}

static void check_dqbuf_steal(void)
{
	const char *t1 =
		"hostile: a blocked DQBUF never returns a buffer of the next owner";
	const char *t2 =
		"hostile: the next owner (another process) dequeues all its frames";
	unsigned int rounds, steals = 0, short_b = 0, ran = 0;
	double t0 = vlib_now_sec();
	struct steal_result r;

	for (rounds = 0; rounds < STEAL_ROUNDS && elapsed_since(t0) < STEAL_SEC;
	     rounds++) {
		steal_round(V4L2_PIX_FMT_YUYV, &r);
		if (r.b_missing < 0 || r.b_missing >= 100) {
			tap_diag("round %u: setup failed (B: %d)", rounds,
				 r.b_missing);
			continue;
		}
		ran++;
		if (!r.a_ret) {
			steals++;
			if (steals == 1)
				tap_diag("round %u: A dequeued buffer %u of B, flags 0x%x",
					 rounds, r.a_index, r.a_flags);
		}
		short_b += r.b_missing != 0;
	}
	tap_diag("%u rounds ran of %u in %.1f s", ran, rounds,
		 elapsed_since(t0));
	if (!tap_ok(ran > 0 && !steals, "%s", t1))
		tap_diag("A dequeued B's buffer in %u of %u rounds", steals,
			 ran);
	if (!tap_ok(ran > 0 && !short_b, "%s", t2))
		tap_diag("B missed frames in %u of %u rounds", short_b, ran);
}

static void check_dqbuf_planes(void)
{
	const char *t =
		"hostile: a DQBUF with a 1-plane array never reports 2 planes";
	struct steal_result r;
	unsigned int i;

	if (!cap.mplane) {
		tap_skip("single-planar node", "%s", t);
		return;
	}
	/* Until the first DQBUF that returns: one overflow at most. */
	for (i = 0; i < PLANES_ROUNDS; i++) {
		steal_round(V4L2_PIX_FMT_NV12M, &r);
		if (!r.a_ret)
			break;
	}
	tap_diag("%u rounds", i + (i < PLANES_ROUNDS));
	tap_diag("DQBUF: %s, b.length %u, canary after the array %s, B missed %d",
		 tap_errname(r.a_ret, r.a_err), r.a_len,
		 r.canary_ok ? "intact" : "overwritten", r.b_missing);
	if (!tap_ok(r.b_missing >= 0 && r.b_missing < 100 &&
		    r.a_ret && r.canary_ok, "%s", t) && !r.a_ret && r.a_len > 1)
		tap_diag("kernel filled %u planes into its copy of a 1-plane array: overflow",
			 r.a_len);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t wd;

	vlib_start(argc, argv, &cap, NULL);
	tap_plan(PLAN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ignore_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&wd, NULL, watchdog, NULL);
	have_out = !vlib_find_output(cap.path, out_path, sizeof(out_path));

	check_mmap_during_reqbufs();
	check_fence_before_streamon();
	check_pinnable_mmap();
	check_cancelled_fences();
	check_one_limit();
	check_dqbuf_steal();
	/* Last: on today's driver this overflows a kernel heap object. */
	check_dqbuf_planes();
	vlib_close(&cap);
	return tap_done();
}
