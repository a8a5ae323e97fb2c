// SPDX-License-Identifier: GPL-2.0-only
/*
 * vx-fuzz: a structured fuzzer for vivid-expbuf's video nodes and the
 * dma-bufs they export.
 *
 *	vx-fuzz [-s SEED] [-p PROCS] [-t THREADS] [-n OPS] [-T SECONDS]
 *		[-X all|dqbuf|mmap] [-U] [-R -m KO [-M PARAMS]] [-v]
 *
 * PROCS processes of THREADS threads each pick operations at random from a
 * table: every V4L2 ioctl of our nodes with valid and invalid arguments,
 * mmap() of buffer offsets, dup(), fork(), close() of queue owners, new
 * handles that try to take a queue, and on the exported dma-bufs mmap,
 * DMA_BUF_IOCTL_SYNC, sync_file export and import, poll, lseek, SET_NAME,
 * imports into our output and capture nodes and into vgem (PRIME), vgem
 * and sw_sync fences, module parameter writes and, with -U and -R, sysfs
 * unbind/bind of our platform devices and rmmod (re-inserted from KO).
 * Scenario operations (stream, take over a queue, export everything, loop
 * capture buffers into the output) get the queues into deep states fast.
 *
 * Every worker thread has its own PRNG stream, derived from SEED and its
 * index, and a fixed share of OPS; each operation draws its own seed from
 * the stream. So the same seed and options replay the same sequence of
 * actions per worker, and each action makes the same choices until the
 * kernel's answers (or what other workers left in the tables) differ.
 * Every blocking call is bounded: a watchdog thread interrupts a worker
 * stuck for more than 1.5 s with a signal, and alarm() ends a process
 * that outlives -T by far.
 *
 * Resources (video handles, dma-bufs, mappings, sync_files, vgem and
 * sw_sync fds) live in a per-process table shared by its threads; they are
 * reference counted, so a close() or munmap() that races with a use waits
 * for the use to finish, as the kernel itself does for files. Only "steal"
 * replaces a dma-buf fd that another thread's EXPBUF is installing.
 *
 * Invariants checked (a violation prints the seed, worker and op index and
 * makes the exit status 1):
 * - a handle that never asked for buffers cannot own the queue, so EXPBUF,
 *   QBUF, PREPARE_BUF, DQBUF and mmap() of buffer memory must fail on it;
 * - the output node copies timestamps: each QBUF is tagged with the id of
 *   the queueing handle, and a DQBUF must return a buffer of its own
 *   handle (a former owner's DQBUF must never see the new owner's buffers);
 * - the size of a dma-buf (lseek SEEK_END) never changes;
 * - a mapping that mmap() gave can be read (and written if writable) until
 *   it is unmapped;
 * - no file descriptor is left open at the end of a process.
 *
 * Kernel reports (WARNING, KASAN, ...) are the harness's business
 * (scripts/guest-fuzz.sh). At the end a table gives every call by name
 * with its results by errno, and the states reached.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libdrm/drm.h>
#include <libdrm/drm_mode.h>
#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/videodev2.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(f, a)		__attribute__((__format__(__printf__, f, a)))

#define MAX_PROCS		16
#define MAX_THREADS		16
#define MAX_RES			160
#define MAX_NODES		16
#define MAX_HANDLES		262144
#define MAX_ERR			160
#define MAX_PL			VIDEO_MAX_PLANES
#define BLOCK_MS		1500
#define USERPTR_POOL		(16 << 20)
#define CHILD_OPS		40
#define MAX_CHILDREN		4
#define PAGE			4096UL

#define CID_LOOPBACK		(V4L2_CID_USER_BASE | 0xf000)
#define H_ALLOC			1u	/* handle asked for buffers */

/* vgem and sw_sync uAPI, restated (not in the C library's headers) */
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};

struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};

#define VGEM_FENCE_ATTACH	\
	DRM_IOWR(DRM_COMMAND_BASE + 1, struct vgem_fence_attach)
#define VGEM_FENCE_SIGNAL	\
	DRM_IOW(DRM_COMMAND_BASE + 2, struct vgem_fence_signal)

struct sw_sync_create_fence {
	uint32_t value;
	char name[32];
	int32_t fence;
};

#define SW_SYNC_CREATE_FENCE	_IOWR('W', 0, struct sw_sync_create_fence)
#define SW_SYNC_INC		_IOW('W', 1, uint32_t)
#define SW_SYNC_PATH		"/sys/kernel/debug/sync/sw_sync"

/* Calls counted, by name. */
enum call {
	S_QUERYCAP, S_ENUM_FMT, S_G_FMT, S_S_FMT, S_TRY_FMT, S_REQBUFS,
	S_CREATE_BUFS, S_QUERYBUF, S_PREPARE_BUF, S_QBUF, S_DQBUF,
	S_STREAMON, S_STREAMOFF, S_EXPBUF, S_G_PARM, S_S_PARM, S_QUERYCTRL,
	S_QUERY_EXT_CTRL, S_QUERYMENU, S_G_CTRL, S_S_CTRL, S_G_EXT_CTRLS,
	S_S_EXT_CTRLS, S_TRY_EXT_CTRLS, S_ENUM_FRAMESIZES,
	S_ENUM_FRAMEINTERVALS, S_ENUMINPUT, S_G_INPUT, S_S_INPUT,
	S_ENUMOUTPUT, S_G_OUTPUT, S_S_OUTPUT, S_G_PRIORITY, S_S_PRIORITY,
	S_LOG_STATUS, S_SUBSCRIBE_EVENT, S_UNSUBSCRIBE_EVENT, S_DQEVENT,
	S_OPEN, S_CLOSE, S_DUP, S_FORK, S_MMAP, S_MUNMAP, S_TOUCH,
	S_DB_MMAP, S_DB_SYNC, S_DB_EXPORT_SYNC, S_DB_IMPORT_SYNC,
	S_DB_SET_NAME, S_DB_POLL, S_DB_LSEEK, S_DB_READ, S_DB_STEAL,
	S_VGEM_OPEN, S_PRIME_FD_TO_HANDLE, S_PRIME_HANDLE_TO_FD,
	S_CREATE_DUMB, S_GEM_CLOSE, S_VGEM_FENCE_ATTACH, S_VGEM_FENCE_SIGNAL,
	S_SWSYNC_OPEN, S_SWSYNC_CREATE_FENCE, S_SWSYNC_INC, S_SYNC_MERGE,
	S_SYNC_FILE_INFO, S_SYNC_POLL, S_PARAM_WRITE, S_UNBIND, S_BIND,
	S_DELETE_MODULE, S_FINIT_MODULE, S_COUNT
};

static const char *const stat_names[S_COUNT] = {
	[S_QUERYCAP] = "VIDIOC_QUERYCAP",
	[S_ENUM_FMT] = "VIDIOC_ENUM_FMT",
	[S_G_FMT] = "VIDIOC_G_FMT",
	[S_S_FMT] = "VIDIOC_S_FMT",
	[S_TRY_FMT] = "VIDIOC_TRY_FMT",
	[S_REQBUFS] = "VIDIOC_REQBUFS",
	[S_CREATE_BUFS] = "VIDIOC_CREATE_BUFS",
	[S_QUERYBUF] = "VIDIOC_QUERYBUF",
	[S_PREPARE_BUF] = "VIDIOC_PREPARE_BUF",
	[S_QBUF] = "VIDIOC_QBUF",
	[S_DQBUF] = "VIDIOC_DQBUF",
	[S_STREAMON] = "VIDIOC_STREAMON",
	[S_STREAMOFF] = "VIDIOC_STREAMOFF",
	[S_EXPBUF] = "VIDIOC_EXPBUF",
	[S_G_PARM] = "VIDIOC_G_PARM",
	[S_S_PARM] = "VIDIOC_S_PARM",
	[S_QUERYCTRL] = "VIDIOC_QUERYCTRL",
	[S_QUERY_EXT_CTRL] = "VIDIOC_QUERY_EXT_CTRL",
	[S_QUERYMENU] = "VIDIOC_QUERYMENU",
	[S_G_CTRL] = "VIDIOC_G_CTRL",
	[S_S_CTRL] = "VIDIOC_S_CTRL",
	[S_G_EXT_CTRLS] = "VIDIOC_G_EXT_CTRLS",
	[S_S_EXT_CTRLS] = "VIDIOC_S_EXT_CTRLS",
	[S_TRY_EXT_CTRLS] = "VIDIOC_TRY_EXT_CTRLS",
	[S_ENUM_FRAMESIZES] = "VIDIOC_ENUM_FRAMESIZES",
	[S_ENUM_FRAMEINTERVALS] = "VIDIOC_ENUM_FRAMEINTERVALS",
	[S_ENUMINPUT] = "VIDIOC_ENUMINPUT",
	[S_G_INPUT] = "VIDIOC_G_INPUT",
	[S_S_INPUT] = "VIDIOC_S_INPUT",
	[S_ENUMOUTPUT] = "VIDIOC_ENUMOUTPUT",
	[S_G_OUTPUT] = "VIDIOC_G_OUTPUT",
	[S_S_OUTPUT] = "VIDIOC_S_OUTPUT",
	[S_G_PRIORITY] = "VIDIOC_G_PRIORITY",
	[S_S_PRIORITY] = "VIDIOC_S_PRIORITY",
	[S_LOG_STATUS] = "VIDIOC_LOG_STATUS",
	[S_SUBSCRIBE_EVENT] = "VIDIOC_SUBSCRIBE_EVENT",
	[S_UNSUBSCRIBE_EVENT] = "VIDIOC_UNSUBSCRIBE_EVENT",
	[S_DQEVENT] = "VIDIOC_DQEVENT",
	[S_OPEN] = "open(video)",
	[S_CLOSE] = "close",
	[S_DUP] = "dup",
	[S_FORK] = "fork",
	[S_MMAP] = "mmap(video)",
	[S_MUNMAP] = "munmap",
	[S_TOUCH] = "touch(mapping)",
	[S_DB_MMAP] = "mmap(dma-buf)",
	[S_DB_SYNC] = "DMA_BUF_IOCTL_SYNC",
	[S_DB_EXPORT_SYNC] = "DMA_BUF_IOCTL_EXPORT_SYNC_FILE",
	[S_DB_IMPORT_SYNC] = "DMA_BUF_IOCTL_IMPORT_SYNC_FILE",
	[S_DB_SET_NAME] = "DMA_BUF_SET_NAME",
	[S_DB_POLL] = "poll(dma-buf)",
	[S_DB_LSEEK] = "lseek(dma-buf)",
	[S_DB_READ] = "read(dma-buf)",
	[S_DB_STEAL] = "dup2(steal new dma-buf fd)",
	[S_VGEM_OPEN] = "open(vgem)",
	[S_PRIME_FD_TO_HANDLE] = "DRM_IOCTL_PRIME_FD_TO_HANDLE",
	[S_PRIME_HANDLE_TO_FD] = "DRM_IOCTL_PRIME_HANDLE_TO_FD",
	[S_CREATE_DUMB] = "DRM_IOCTL_MODE_CREATE_DUMB",
	[S_GEM_CLOSE] = "DRM_IOCTL_GEM_CLOSE",
	[S_VGEM_FENCE_ATTACH] = "DRM_IOCTL_VGEM_FENCE_ATTACH",
	[S_VGEM_FENCE_SIGNAL] = "DRM_IOCTL_VGEM_FENCE_SIGNAL",
	[S_SWSYNC_OPEN] = "open(sw_sync)",
	[S_SWSYNC_CREATE_FENCE] = "SW_SYNC_IOC_CREATE_FENCE",
	[S_SWSYNC_INC] = "SW_SYNC_IOC_INC",
	[S_SYNC_MERGE] = "SYNC_IOC_MERGE",
	[S_SYNC_FILE_INFO] = "SYNC_IOC_FILE_INFO",
	[S_SYNC_POLL] = "poll(sync_file)",
	[S_PARAM_WRITE] = "write(module parameter)",
	[S_UNBIND] = "write(sysfs unbind)",
	[S_BIND] = "write(sysfs bind)",
	[S_DELETE_MODULE] = "delete_module",
	[S_FINIT_MODULE] = "finit_module",
};

/* States reached, counted for the report. */
enum state {
	ST_DQ_BLOCKED, ST_DQ_TAKEOVER, ST_DQ_TAKEOVER_OK, ST_STREAMING,
	ST_TAKEOVER, ST_NONOWNER_MMAP_TRY, ST_ORPHAN_MAP, ST_IMPORT_OK,
	ST_STOLEN, ST_CHILDREN, ST_RMMOD_OK, ST_REBIND, ST_INTERRUPTED,
	ST_COUNT
};

static const char *const state_names[ST_COUNT] = {
	[ST_DQ_BLOCKED] = "DQBUF blocked (>= 20 ms)",
	[ST_DQ_TAKEOVER] = "DQBUF blocked while another handle took the queue",
	[ST_DQ_TAKEOVER_OK] = "... and then returned a buffer",
	[ST_STREAMING] = "STREAMON succeeded",
	[ST_TAKEOVER] = "queue taken by a new handle after the owner let go",
	[ST_NONOWNER_MMAP_TRY] = "mmap by a never-allocating handle tried",
	[ST_ORPHAN_MAP] = "buffer mapping touched after a later allocation",
	[ST_IMPORT_OK] = "DMABUF QBUF succeeded",
	[ST_STOLEN] = "new dma-buf fd replaced under EXPBUF/PRIME",
	[ST_CHILDREN] = "forked children run",
	[ST_RMMOD_OK] = "rmmod succeeded (module re-inserted)",
	[ST_REBIND] = "unbind + bind done",
	[ST_INTERRUPTED] = "blocking calls interrupted by the watchdog",
};

enum profile { PROF_ALL, PROF_DQBUF, PROF_MMAP, PROF_COUNT };

/* What all processes share (MAP_SHARED, set up before the first fork). */
struct shared {
	atomic_ulong stats[S_COUNT][MAX_ERR];
	atomic_ulong states[ST_COUNT];
	atomic_ulong ops;
	atomic_uint violations;
	atomic_uint handles;
	atomic_uint hflags[MAX_HANDLES];
	atomic_ulong take_seq[256];
	atomic_uint take_slot[256];
	atomic_uint node_gen;
	atomic_int modlock;
	atomic_int children;
	atomic_int stop;
};

enum rkind { R_FREE, R_VIDEO, R_DMABUF, R_MAP, R_SYNC, R_VGEM,
	     R_TIMELINE, R_KINDS };

/* One resource of a process; see the header comment. */
struct res {
	int kind;
	int fd;
	int refs;
	bool dead;
	/* R_VIDEO */
	uint32_t slot;
	uint32_t type;
	uint32_t other_type;
	bool output;
	bool mplane;
	unsigned int minor;
	uint32_t mem;
	uint32_t count;
	uint32_t nplanes;
	uint32_t sizeimage[2];
	/* R_DMABUF */
	ino_t ino;
	off_t size;
	int acc;
	/* R_MAP */
	void *addr;
	size_t len;
	int prot;
	pid_t pid;
	unsigned long map_seq;	/* take_seq + 1 of the queue when mapped */
	/* R_VGEM: GEM handles and fences */
	uint32_t gem[4];
	uint32_t fence[4];
	/* R_TIMELINE */
	uint32_t tl_value;
};

struct node {
	char path[32];
};

struct worker {
	uint64_t stream;	/* one value per operation */
	uint64_t rng;		/* the current operation's choices */
	unsigned int idx;
	unsigned long op;
	unsigned long budget;
	const char *action;
	pthread_t tid;
	atomic_long deadline;
	bool child;
};

struct options {
	unsigned long long seed;
	unsigned int procs;
	unsigned int threads;
	unsigned long ops;
	unsigned int seconds;
	enum profile prof;
	bool unbind;
	bool rmmod;
	bool verbose;
	const char *ko;
	const char *params;
};

struct action {
	const char *name;
	void (*fn)(struct worker *w);
	unsigned int weight[PROF_COUNT];
};

static struct options opt = {
	.procs = 2, .threads = 3, .ops = 10000, .seconds = 600,
	.params = "n_devs=2 multiplanar=1,2 node_types=0x101,0x101",
};

static struct shared *shm;

/* Per process state. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct res res[MAX_RES];
static struct node nodes[MAX_NODES];
static unsigned int n_nodes, nodes_gen;
static struct worker workers[MAX_THREADS];
static unsigned int n_workers;
static atomic_bool proc_done;
static int null_fd = -1;
static uint8_t *userptr_pool;
static double t_start, t_end;

/* Found before the first fork. */
static char vgem_path[64];
static bool have_sw_sync;
static char params[4][300];
static unsigned int n_params;
static char pdrv[300];
static char pdevs[8][32];
static unsigned int n_pdevs;
static unsigned int action_total[PROF_COUNT];

static __thread sigjmp_buf touch_jmp;
static __thread atomic_int in_touch;

/* ---- PRNG, time, counting ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct worker *w, uint32_t n)
{
	return n ? (uint32_t)(splitmix(&w->rng) % n) : 0;
}

static bool chance(struct worker *w, unsigned int pct)
{
	return rnd(w, 100) < pct;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long now_ms(void)
{
	return (long)(now_sec() * 1000);
}

/* Counts a call's result; @ret < 0 means failure with errno. */
static void count(enum call s, long ret)
{
	int err = ret < 0 ? errno : 0;

	if (err < 0 || err >= MAX_ERR)
		err = MAX_ERR - 1;
	atomic_fetch_add(&shm->stats[s][err], 1);
	errno = err;
}

static void reached(enum state st)
{
	atomic_fetch_add(&shm->states[st], 1);
}

static __printf(2, 3) void violation(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	/* the first 20 are printed, all are counted */
	if (atomic_fetch_add(&shm->violations, 1) >= 20)
		return;
	flockfile(stdout);
	printf("vx-fuzz: VIOLATION seed %llu worker %u%s op %lu (%s): ",
	       opt.seed, w->idx, w->child ? " (forked child)" : "", w->op,
	       w->action);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	funlockfile(stdout);
}

static int xioctl(int fd, unsigned long req, void *arg, enum call s)
{
	int ret = ioctl(fd, req, arg);

	count(s, ret);
	return ret;
}

/* A call that may block: the watchdog interrupts it after BLOCK_MS. */
static int bioctl(struct worker *w, int fd, unsigned long req, void *arg,
		  enum call s)
{
	int ret;

	atomic_store(&w->deadline, now_ms() + BLOCK_MS);
	ret = ioctl(fd, req, arg);
	atomic_store(&w->deadline, 0);
	count(s, ret);
	if (ret < 0 && errno == EINTR)
		reached(ST_INTERRUPTED);
	return ret;
}

/* ---- the resource table ---- */

static void res_release(struct res *r)
{
	if (r->kind == R_MAP)
		count(S_MUNMAP, munmap(r->addr, r->len));
	else
		count(S_CLOSE, close(r->fd));
	r->kind = R_FREE;
}

/* Adds a resource (@t, already filled); false (and nothing kept) if full. */
static bool res_add(const struct res *t)
{
	unsigned int i, n = 0;
	struct res *r = NULL;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_RES; i++) {
		if (res[i].kind == t->kind)
			n++;
		else if (res[i].kind == R_FREE && !r)
			r = &res[i];
	}
	if (r && n < MAX_RES / 4) {
		*r = *t;
		r->refs = 0;
		r->dead = false;
	} else {
		r = NULL;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* Takes a reference to a random live resource of kind @kind, or NULL. */
static struct res *res_get(struct worker *w, int kind)
{
	unsigned int i, n = 0, pick;
	struct res *r = NULL;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_RES; i++)
		if (res[i].kind == kind && !res[i].dead)
			n++;
	pick = rnd(w, n);
	for (i = 0; n && i < MAX_RES; i++) {
		if (res[i].kind != kind || res[i].dead)
			continue;
		if (!pick--) {
			r = &res[i];
			r->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/*
 * Drops a reference. A video handle whose last call failed with ENODEV
 * (its device was unbound) is closed: it can never work again.
 */
static void res_put(struct res *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&lock);
	if (r->kind == R_VIDEO && errno == ENODEV)
		r->dead = true;
	if (!--r->refs && r->dead)
		res_release(r);
	pthread_mutex_unlock(&lock);
}

/* Closes (or unmaps) @r once nobody uses it; drops the caller's ref. */
static void res_kill(struct res *r)
{
	pthread_mutex_lock(&lock);
	r->dead = true;
	if (!--r->refs)
		res_release(r);
	pthread_mutex_unlock(&lock);
}

static bool fd_known(int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_RES; i++)
		if (res[i].kind != R_FREE && res[i].kind != R_MAP &&
		    res[i].fd == fd)
			return true;
	return false;
}

/* ---- nodes, handles ---- */

static void scan_nodes(void)
{
	char path[300], name[64];
	struct dirent *de;
	unsigned int n = 0;
	DIR *dir;
	FILE *f;

	dir = opendir("/sys/class/video4linux");
	while (dir && (de = readdir(dir)) && n < MAX_NODES) {
		if (strncmp(de->d_name, "video", 5))
			continue;
		snprintf(path, sizeof(path), "/sys/class/video4linux/%s/name",
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strncmp(name, "vivid-expbuf-", 13))
			snprintf(nodes[n++].path, sizeof(nodes[0].path),
				 "/dev/%.20s", de->d_name);
		fclose(f);
	}
	if (dir)
		closedir(dir);
	n_nodes = n;
}

static void maybe_rescan(void)
{
	unsigned int gen = atomic_load(&shm->node_gen);

	if (gen == nodes_gen)
		return;
	pthread_mutex_lock(&lock);
	if (gen != nodes_gen) {
		scan_nodes();
		nodes_gen = gen;
	}
	pthread_mutex_unlock(&lock);
}

static bool never_alloc(const struct res *v)
{
	return !(atomic_load(&shm->hflags[v->slot]) & H_ALLOC);
}

static void mark_alloc(const struct res *v)
{
	atomic_fetch_or(&shm->hflags[v->slot], H_ALLOC);
}

static unsigned long take_seq(const struct res *v)
{
	return atomic_load(&shm->take_seq[v->minor & 255]);
}

/* @v now holds buffers: record it as the queue's taker. */
static void note_take(const struct res *v)
{
	atomic_store(&shm->take_slot[v->minor & 255], v->slot);
	atomic_fetch_add(&shm->take_seq[v->minor & 255], 1);
}

/* The node's buffer type of the other API (single/multi-planar). */
static uint32_t other_api(uint32_t type)
{
	switch (type) {
	case V4L2_BUF_TYPE_VIDEO_CAPTURE:
		return V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	case V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE:
		return V4L2_BUF_TYPE_VIDEO_CAPTURE;
	case V4L2_BUF_TYPE_VIDEO_OUTPUT:
		return V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	default:
		return V4L2_BUF_TYPE_VIDEO_OUTPUT;
	}
}

static bool set_type(struct res *v, const struct v4l2_capability *cap)
{
	uint32_t caps = cap->device_caps;

	if (caps & V4L2_CAP_VIDEO_CAPTURE)
		v->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	else if (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)
		v->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
	else if (caps & V4L2_CAP_VIDEO_OUTPUT)
		v->type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	else if (caps & V4L2_CAP_VIDEO_OUTPUT_MPLANE)
		v->type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	else
		return false;
	v->other_type = other_api(v->type);
	v->output = V4L2_TYPE_IS_OUTPUT(v->type);
	v->mplane = V4L2_TYPE_IS_MULTIPLANAR(v->type);
	return true;
}

/* Opens node @path as a new handle; false if it could not be kept. */
static bool open_handle(struct worker *w, const char *path, bool want_out,
			struct res *v)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY,
				     O_WRONLY };
	struct v4l2_capability cap;
	int mode = modes[rnd(w, ARRAY_SIZE(modes))];
	bool nonblock = chance(w, 50) && opt.prof != PROF_DQBUF;
	struct stat st;
	int fd;

	if (opt.prof == PROF_MMAP)
		mode = O_RDWR;
	fd = open(path, mode | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
	count(S_OPEN, fd);
	if (fd < 0)
		return false;
	memset(v, 0, sizeof(*v));
	memset(&cap, 0, sizeof(cap));
	if (xioctl(fd, VIDIOC_QUERYCAP, &cap, S_QUERYCAP) || !set_type(v, &cap) ||
	    fstat(fd, &st) || (want_out && !v->output)) {
		count(S_CLOSE, close(fd));
		return false;
	}
	v->kind = R_VIDEO;
	v->fd = fd;
	v->minor = minor(st.st_rdev);
	v->slot = atomic_fetch_add(&shm->handles, 1) % MAX_HANDLES;
	atomic_store(&shm->hflags[v->slot], 0);
	v->nplanes = 1;
	return true;
}

static const char *pick_node(struct worker *w)
{
	const char *path = NULL;

	pthread_mutex_lock(&lock);
	if (n_nodes)
		path = nodes[rnd(w, n_nodes)].path;
	pthread_mutex_unlock(&lock);
	return path;
}

static void op_open(struct worker *w)
{
	const char *path = pick_node(w);
	struct res v;

	if (path && open_handle(w, path, false, &v) && !res_add(&v))
		count(S_CLOSE, close(v.fd));
}

/* A video handle (opened if there is none), referenced. */
static struct res *get_video(struct worker *w)
{
	struct res *v = res_get(w, R_VIDEO);

	if (!v) {
		op_open(w);
		v = res_get(w, R_VIDEO);
	}
	return v;
}

/* ---- argument pickers ---- */

static uint32_t pick_type(struct worker *w, const struct res *v)
{
	unsigned int r = rnd(w, 40);

	if (r < 36)
		return v->type;
	if (r < 38)
		return v->other_type;
	return rnd(w, 16);
}

static uint32_t pick_memory(struct worker *w, const struct res *v)
{
	static const uint32_t mem[] = {
		V4L2_MEMORY_MMAP, V4L2_MEMORY_MMAP, V4L2_MEMORY_MMAP,
		V4L2_MEMORY_USERPTR, V4L2_MEMORY_DMABUF, V4L2_MEMORY_DMABUF,
		0, V4L2_MEMORY_OVERLAY, 7,
	};

	if (v->mem && chance(w, 75))
		return v->mem;
	return mem[rnd(w, ARRAY_SIZE(mem))];
}

static uint32_t pick_count(struct worker *w)
{
	unsigned int r = rnd(w, 100);

	if (r < 10)
		return 0;
	if (r < 75)
		return 1 + rnd(w, 6);
	if (r < 92)
		return 7 + rnd(w, 10);
	return 17 + rnd(w, 24);
}

static uint32_t pick_fourcc(struct worker *w)
{
	static const uint32_t fcc[] = {
		V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_RGB24,
		V4L2_PIX_FMT_XBGR32, V4L2_PIX_FMT_RGB565, V4L2_PIX_FMT_NV12,
		V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_NV12M, V4L2_PIX_FMT_MJPEG, 0,
	};

	return chance(w, 97) ? fcc[rnd(w, ARRAY_SIZE(fcc))] : (uint32_t)splitmix(&w->rng);
}

static void pick_size(struct worker *w, uint32_t *wd, uint32_t *ht)
{
	static const uint32_t sz[][2] = {
		{ 16, 16 }, { 64, 48 }, { 160, 120 }, { 320, 240 },
		{ 320, 240 }, { 640, 480 }, { 640, 480 }, { 1280, 720 },
		{ 1920, 1080 }, { 3840, 2160 },
	};
	unsigned int r = rnd(w, 100), i;

	if (r < 94) {
		i = r < 88 ? rnd(w, 7) : rnd(w, ARRAY_SIZE(sz));
		*wd = sz[i][0];
		*ht = sz[i][1];
	} else if (r < 98) {
		*wd = rnd(w, 700);
		*ht = rnd(w, 500);
	} else {
		*wd = chance(w, 50) ? 0 : UINT32_MAX - rnd(w, 3);
		*ht = chance(w, 50) ? 1 : UINT32_MAX;
	}
}

static void fill_fmt(struct worker *w, struct v4l2_format *f, uint32_t type)
{
	struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;
	struct v4l2_pix_format *pix = &f->fmt.pix;
	uint32_t wd, ht;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->type = type;
	if (V4L2_TYPE_IS_MULTIPLANAR(type)) {
		pick_size(w, &wd, &ht);
		mp->width = wd;
		mp->height = ht;
		mp->pixelformat = pick_fourcc(w);
		mp->field = chance(w, 90) ? V4L2_FIELD_NONE : rnd(w, 12);
		mp->num_planes = chance(w, 80) ? 1 : rnd(w, 10);
		for (i = 0; i < 2; i++)
			if (chance(w, 10))
				mp->plane_fmt[i].sizeimage = rnd(w, 1 << 22);
	} else {
		pick_size(w, &pix->width, &pix->height);
		pix->pixelformat = pick_fourcc(w);
		pix->field = chance(w, 90) ? V4L2_FIELD_NONE : rnd(w, 12);
		if (chance(w, 10))
			pix->bytesperline = rnd(w, 20000);
		if (chance(w, 10))
			pix->sizeimage = rnd(w, 1 << 22);
	}
}

/* Remembers the plane sizes of a format the node returned. */
static void note_fmt(struct res *v, const struct v4l2_format *f)
{
	const struct v4l2_pix_format_mplane *mp = &f->fmt.pix_mp;

	if (f->type != v->type)
		return;
	if (v->mplane) {
		v->nplanes = mp->num_planes > 2 ? 2 : mp->num_planes;
		v->sizeimage[0] = mp->plane_fmt[0].sizeimage;
		v->sizeimage[1] = mp->plane_fmt[1].sizeimage;
	} else {
		v->nplanes = 1;
		v->sizeimage[0] = f->fmt.pix.sizeimage;
	}
}

/* ---- format, parameters, enumerations ---- */

static void op_querycap(struct worker *w)
{
	struct v4l2_capability cap;
	struct res *v = get_video(w);

	if (!v)
		return;
	xioctl(v->fd, VIDIOC_QUERYCAP, &cap, S_QUERYCAP);
	res_put(v);
}

static void op_enum_fmt(struct worker *w)
{
	struct v4l2_fmtdesc fd;
	struct res *v = get_video(w);

	if (!v)
		return;
	memset(&fd, 0, sizeof(fd));
	fd.type = pick_type(w, v);
	fd.index = chance(w, 90) ? rnd(w, 8) : (uint32_t)splitmix(&w->rng);
	if (chance(w, 10))
		fd.mbus_code = rnd(w, 0x3000);
	xioctl(v->fd, VIDIOC_ENUM_FMT, &fd, S_ENUM_FMT);
	res_put(v);
}

static void op_g_fmt(struct worker *w)
{
	struct v4l2_format f;
	struct res *v = get_video(w);

	if (!v)
		return;
	memset(&f, 0, sizeof(f));
	f.type = pick_type(w, v);
	if (!xioctl(v->fd, VIDIOC_G_FMT, &f, S_G_FMT))
		note_fmt(v, &f);
	res_put(v);
}

static void op_s_fmt(struct worker *w)
{
	struct v4l2_format f;
	struct res *v = get_video(w);
	bool try = chance(w, 30);

	if (!v)
		return;
	fill_fmt(w, &f, pick_type(w, v));
	if (try)
		xioctl(v->fd, VIDIOC_TRY_FMT, &f, S_TRY_FMT);
	else if (!xioctl(v->fd, VIDIOC_S_FMT, &f, S_S_FMT))
		note_fmt(v, &f);
	res_put(v);
}

static void op_parm(struct worker *w)
{
	static const uint32_t fr[][2] = {
		{ 1, 30 }, { 1, 60 }, { 1, 15 }, { 1, 5 }, { 0, 0 },
		{ 1, 1000 }, { 1000, 1 }, { 0, 30 }, { 7, 0 },
	};
	struct v4l2_streamparm p;
	struct res *v = get_video(w);
	unsigned int i = rnd(w, ARRAY_SIZE(fr));

	if (!v)
		return;
	memset(&p, 0, sizeof(p));
	p.type = pick_type(w, v);
	if (chance(w, 40)) {
		xioctl(v->fd, VIDIOC_G_PARM, &p, S_G_PARM);
	} else {
		/* capture and output timeperframe sit at the same offset */
		p.parm.capture.timeperframe.numerator = fr[i][0];
		p.parm.capture.timeperframe.denominator = fr[i][1];
		p.parm.capture.capability = rnd(w, 0x2000);
		xioctl(v->fd, VIDIOC_S_PARM, &p, S_S_PARM);
	}
	res_put(v);
}

static void op_enum_sizes(struct worker *w)
{
	struct v4l2_frmsizeenum fs;
	struct v4l2_frmivalenum fi;
	struct res *v = get_video(w);

	if (!v)
		return;
	if (chance(w, 50)) {
		memset(&fs, 0, sizeof(fs));
		fs.pixel_format = pick_fourcc(w);
		fs.index = rnd(w, 3);
		xioctl(v->fd, VIDIOC_ENUM_FRAMESIZES, &fs,
		       S_ENUM_FRAMESIZES);
	} else {
		memset(&fi, 0, sizeof(fi));
		fi.pixel_format = pick_fourcc(w);
		pick_size(w, &fi.width, &fi.height);
		fi.index = rnd(w, 9);
		xioctl(v->fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi,
		       S_ENUM_FRAMEINTERVALS);
	}
	res_put(v);
}

static void op_inout(struct worker *w)
{
	struct v4l2_output out;
	struct v4l2_input in;
	struct res *v = get_video(w);
	int idx = chance(w, 80) ? 0 : (int)rnd(w, 3) - 1;

	if (!v)
		return;
	switch (rnd(w, 6)) {
	case 0:
		memset(&in, 0, sizeof(in));
		in.index = idx;
		xioctl(v->fd, VIDIOC_ENUMINPUT, &in, S_ENUMINPUT);
		break;
	case 1:
		xioctl(v->fd, VIDIOC_G_INPUT, &idx, S_G_INPUT);
		break;
	case 2:
		xioctl(v->fd, VIDIOC_S_INPUT, &idx, S_S_INPUT);
		break;
	case 3:
		memset(&out, 0, sizeof(out));
		out.index = idx;
		xioctl(v->fd, VIDIOC_ENUMOUTPUT, &out, S_ENUMOUTPUT);
		break;
	case 4:
		xioctl(v->fd, VIDIOC_G_OUTPUT, &idx, S_G_OUTPUT);
		break;
	default:
		xioctl(v->fd, VIDIOC_S_OUTPUT, &idx, S_S_OUTPUT);
		break;
	}
	res_put(v);
}

static void op_priority(struct worker *w)
{
	struct res *v = get_video(w);
	uint32_t prio = rnd(w, 5);

	if (!v)
		return;
	if (chance(w, 50))
		xioctl(v->fd, VIDIOC_G_PRIORITY, &prio, S_G_PRIORITY);
	else
		xioctl(v->fd, VIDIOC_S_PRIORITY, &prio, S_S_PRIORITY);
	res_put(v);
}

/* ---- controls and events ---- */

static uint32_t pick_cid(struct worker *w)
{
	static const uint32_t ids[] = {
		V4L2_CID_HFLIP, V4L2_CID_TEST_PATTERN, CID_LOOPBACK,
		CID_LOOPBACK, V4L2_CID_BRIGHTNESS, V4L2_CID_USER_CLASS, 0,
	};

	return chance(w, 95) ? ids[rnd(w, ARRAY_SIZE(ids))] : (uint32_t)splitmix(&w->rng);
}

static int32_t pick_value(struct worker *w)
{
	static const int32_t vals[] = { 0, 1, 0, 1, 2, -1, INT32_MAX };

	return vals[rnd(w, ARRAY_SIZE(vals))];
}

static void ext_ctrls(struct worker *w, struct res *v)
{
	static const unsigned long req[] = {
		VIDIOC_G_EXT_CTRLS, VIDIOC_S_EXT_CTRLS, VIDIOC_TRY_EXT_CTRLS,
	};
	static const enum call st[] = {
		S_G_EXT_CTRLS, S_S_EXT_CTRLS, S_TRY_EXT_CTRLS,
	};
	static const uint32_t which[] = {
		V4L2_CTRL_WHICH_CUR_VAL, V4L2_CTRL_WHICH_DEF_VAL,
		V4L2_CTRL_CLASS_USER, V4L2_CTRL_WHICH_REQUEST_VAL, 0x12345,
	};
	struct v4l2_ext_control c[3];
	struct v4l2_ext_controls cs;
	unsigned int i, k = rnd(w, 3);

	memset(&cs, 0, sizeof(cs));
	memset(c, 0, sizeof(c));
	cs.which = which[rnd(w, ARRAY_SIZE(which))];
	cs.count = rnd(w, 4);
	cs.controls = c;
	for (i = 0; i < 3; i++) {
		c[i].id = pick_cid(w);
		c[i].value = pick_value(w);
	}
	xioctl(v->fd, req[k], &cs, st[k]);
}

static void op_ctrl(struct worker *w)
{
	struct v4l2_query_ext_ctrl qe;
	struct v4l2_queryctrl q;
	struct v4l2_querymenu m;
	struct v4l2_control c;
	struct res *v = get_video(w);

	if (!v)
		return;
	memset(&q, 0, sizeof(q));
	memset(&qe, 0, sizeof(qe));
	memset(&m, 0, sizeof(m));
	c.id = pick_cid(w);
	c.value = pick_value(w);
	switch (rnd(w, 7)) {
	case 0:
		q.id = c.id | (chance(w, 30) ? V4L2_CTRL_FLAG_NEXT_CTRL : 0);
		xioctl(v->fd, VIDIOC_QUERYCTRL, &q, S_QUERYCTRL);
		break;
	case 1:
		qe.id = c.id | (chance(w, 30) ? V4L2_CTRL_FLAG_NEXT_CTRL |
				V4L2_CTRL_FLAG_NEXT_COMPOUND : 0);
		xioctl(v->fd, VIDIOC_QUERY_EXT_CTRL, &qe, S_QUERY_EXT_CTRL);
		break;
	case 2:
		m.id = c.id;
		m.index = rnd(w, 4);
		xioctl(v->fd, VIDIOC_QUERYMENU, &m, S_QUERYMENU);
		break;
	case 3:
		xioctl(v->fd, VIDIOC_G_CTRL, &c, S_G_CTRL);
		break;
	case 4:
	case 5:
		xioctl(v->fd, VIDIOC_S_CTRL, &c, S_S_CTRL);
		break;
	default:
		ext_ctrls(w, v);
		break;
	}
	res_put(v);
}

static void op_event(struct worker *w)
{
	struct v4l2_event_subscription sub;
	struct res *v = get_video(w);
	struct v4l2_event ev;
	struct pollfd pfd;

	if (!v)
		return;
	memset(&sub, 0, sizeof(sub));
	sub.type = chance(w, 80) ? V4L2_EVENT_CTRL : rnd(w, 8);
	sub.id = pick_cid(w);
	sub.flags = rnd(w, 4);
	switch (rnd(w, 4)) {
	case 0:
	case 1:
		xioctl(v->fd, VIDIOC_SUBSCRIBE_EVENT, &sub,
		       S_SUBSCRIBE_EVENT);
		break;
	case 2:
		if (chance(w, 20))
			sub.type = V4L2_EVENT_ALL;
		xioctl(v->fd, VIDIOC_UNSUBSCRIBE_EVENT, &sub,
		       S_UNSUBSCRIBE_EVENT);
		break;
	default:
		pfd.fd = v->fd;
		pfd.events = POLLPRI;
		if (poll(&pfd, 1, rnd(w, 10)) > 0 || chance(w, 10))
			bioctl(w, v->fd, VIDIOC_DQEVENT, &ev, S_DQEVENT);
		break;
	}
	res_put(v);
}

static void op_log_status(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	xioctl(v->fd, VIDIOC_LOG_STATUS, NULL, S_LOG_STATUS);
	res_put(v);
}

/* ---- buffers ---- */

static int do_reqbufs(struct res *v, uint32_t type, uint32_t memory,
		      uint32_t cnt)
{
	struct v4l2_requestbuffers rb;
	int ret;

	memset(&rb, 0, sizeof(rb));
	rb.type = type;
	rb.memory = memory;
	rb.count = cnt;
	if (cnt)
		mark_alloc(v);
	ret = xioctl(v->fd, VIDIOC_REQBUFS, &rb, S_REQBUFS);
	if (!ret) {
		v->mem = memory;
		v->count = rb.count;
		if (rb.count)
			note_take(v);
	}
	return ret;
}

static void op_reqbufs(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	do_reqbufs(v, pick_type(w, v), pick_memory(w, v), pick_count(w));
	res_put(v);
}

/* Makes the first plane of @f smaller or larger than the format needs. */
static void tweak_size(struct worker *w, struct v4l2_format *f)
{
	bool mp = V4L2_TYPE_IS_MULTIPLANAR(f->type);
	uint32_t size = mp ? f->fmt.pix_mp.plane_fmt[0].sizeimage :
			f->fmt.pix.sizeimage;

	size = chance(w, 50) ? size / 2 : size + PAGE;
	if (mp)
		f->fmt.pix_mp.plane_fmt[0].sizeimage = size;
	else
		f->fmt.pix.sizeimage = size;
}

static void op_create_bufs(struct worker *w)
{
	struct v4l2_create_buffers cb;
	struct res *v = get_video(w);

	if (!v)
		return;
	memset(&cb, 0, sizeof(cb));
	cb.count = rnd(w, 9);
	cb.memory = pick_memory(w, v);
	cb.format.type = pick_type(w, v);
	if (chance(w, 80)) {
		xioctl(v->fd, VIDIOC_G_FMT, &cb.format, S_G_FMT);
		if (chance(w, 20))
			tweak_size(w, &cb.format);
	} else {
		fill_fmt(w, &cb.format, cb.format.type);
	}
	mark_alloc(v);
	if (!xioctl(v->fd, VIDIOC_CREATE_BUFS, &cb, S_CREATE_BUFS) &&
	    cb.count) {
		v->mem = cb.memory;
		v->count = cb.index + cb.count;
		note_take(v);
	}
	res_put(v);
}

static void init_buf(struct worker *w, const struct res *v,
		     struct v4l2_buffer *b, struct v4l2_plane *pl,
		     uint32_t memory, uint32_t index)
{
	memset(b, 0, sizeof(*b));
	memset(pl, 0, sizeof(*pl) * MAX_PL);
	b->type = pick_type(w, v);
	b->memory = memory;
	b->index = index;
	if (V4L2_TYPE_IS_MULTIPLANAR(b->type)) {
		b->m.planes = pl;
		b->length = chance(w, 90) ? (v->nplanes ? v->nplanes : 1) :
			    rnd(w, MAX_PL + 2);
	}
}

static uint32_t pick_index(struct worker *w, const struct res *v)
{
	if (chance(w, 95))
		return rnd(w, v->count + 2);
	return chance(w, 50) ? rnd(w, 64) : UINT32_MAX;
}

/* An fd for a DMABUF plane: mostly a dma-buf of ours (referenced). */
static int pick_dmabuf_fd(struct worker *w, const struct res *v,
			  struct res **held)
{
	*held = NULL;
	if (chance(w, 92)) {
		*held = res_get(w, R_DMABUF);
		if (*held)
			return (*held)->fd;
	}
	switch (rnd(w, 3)) {
	case 0:
		return -1;
	case 1:
		return v->fd;
	default:
		return 1000 + rnd(w, 100);
	}
}

static unsigned long pick_userptr(struct worker *w, uint32_t len)
{
	struct res *m;
	unsigned long p;

	if (chance(w, 85) && len <= USERPTR_POOL) {
		p = rnd(w, (USERPTR_POOL - len) / PAGE + 1) * PAGE;
		return (unsigned long)userptr_pool + p;
	}
	if (chance(w, 60)) {
		m = res_get(w, R_MAP);	/* PFN maps must be refused */
		if (m) {
			p = (unsigned long)m->addr;
			res_put(m);
			return p;
		}
	}
	return chance(w, 50) ? 0 : 0x1000 + rnd(w, 16) * 8;
}

/* Fills plane @i of a QBUF/PREPARE_BUF; a dma-buf used goes to @held. */
static void fill_plane(struct worker *w, const struct res *v,
		       struct v4l2_buffer *b, unsigned int i,
		       struct res **held)
{
	uint32_t want = i < 2 ? v->sizeimage[i] : 0;
	uint32_t len = chance(w, 85) ? want : rnd(w, 1 << 21);
	uint32_t used = chance(w, 70) ? 0 : rnd(w, len + 2);
	unsigned long uptr = 0;
	int fd = -1;

	if (b->memory == V4L2_MEMORY_USERPTR)
		uptr = pick_userptr(w, len);
	else if (b->memory == V4L2_MEMORY_DMABUF)
		fd = pick_dmabuf_fd(w, v, held);
	if (b->memory == V4L2_MEMORY_DMABUF && *held && chance(w, 60))
		len = chance(w, 50) ? 0 : (uint32_t)(*held)->size;
	if (!V4L2_TYPE_IS_MULTIPLANAR(b->type)) {
		b->length = len;
		b->bytesused = used;
		if (b->memory == V4L2_MEMORY_USERPTR)
			b->m.userptr = uptr;
		else if (b->memory == V4L2_MEMORY_DMABUF)
			b->m.fd = fd;
		return;
	}
	b->m.planes[i].length = len;
	b->m.planes[i].bytesused = used;
	b->m.planes[i].data_offset = chance(w, 95) ? 0 : rnd(w, 8192);
	if (b->memory == V4L2_MEMORY_USERPTR)
		b->m.planes[i].m.userptr = uptr;
	else if (b->memory == V4L2_MEMORY_DMABUF)
		b->m.planes[i].m.fd = fd;
}

/*
 * Queues (or prepares) buffer @index of @v with memory @memory. Output
 * buffers carry the handle's tag in their timestamp.
 */
static int queue_buf(struct worker *w, struct res *v, uint32_t memory,
		     uint32_t index, bool prepare)
{
	struct res *held[MAX_PL] = { NULL };
	struct v4l2_plane pl[MAX_PL];
	struct v4l2_buffer b;
	unsigned int i, n;
	int ret;

	init_buf(w, v, &b, pl, memory, index);
	n = V4L2_TYPE_IS_MULTIPLANAR(b.type) ? b.length : 1;
	for (i = 0; i < n && i < MAX_PL; i++)
		fill_plane(w, v, &b, i, &held[i]);
	b.timestamp.tv_sec = v->slot + 1;
	b.timestamp.tv_usec = rnd(w, 1000000);
	if (chance(w, 3))
		b.flags = (uint32_t)splitmix(&w->rng);
	if (prepare)
		ret = xioctl(v->fd, VIDIOC_PREPARE_BUF, &b, S_PREPARE_BUF);
	else
		ret = xioctl(v->fd, VIDIOC_QBUF, &b, S_QBUF);
	if (!ret && never_alloc(v))
		violation(w, "%s succeeded on handle %u that never allocated",
			  prepare ? "PREPARE_BUF" : "QBUF", v->slot);
	if (!ret && memory == V4L2_MEMORY_DMABUF)
		reached(ST_IMPORT_OK);
	for (i = 0; i < MAX_PL; i++)
		res_put(held[i]);
	return ret;
}

static void op_qbuf(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	queue_buf(w, v, pick_memory(w, v), pick_index(w, v), chance(w, 10));
	res_put(v);
}

static void op_querybuf(struct worker *w)
{
	struct v4l2_plane pl[MAX_PL];
	struct v4l2_buffer b;
	struct res *v = get_video(w);

	if (!v)
		return;
	init_buf(w, v, &b, pl, pick_memory(w, v), pick_index(w, v));
	xioctl(v->fd, VIDIOC_QUERYBUF, &b, S_QUERYBUF);
	res_put(v);
}

static void check_dequeued(struct worker *w, const struct res *v,
			   const struct v4l2_buffer *b)
{
	if (never_alloc(v))
		violation(w, "DQBUF succeeded on handle %u that never allocated",
			  v->slot);
	if (v->output && b->type == v->type &&
	    b->timestamp.tv_sec != (long)v->slot + 1)
		violation(w, "DQBUF on output handle %u returned buffer %u queued by handle %ld",
			  v->slot, b->index, (long)b->timestamp.tv_sec - 1);
}

/*
 * A DQBUF may run at SCHED_IDLE: once woken it then waits for the CPUs to
 * be free, so whatever another thread does meanwhile (take the queue over)
 * happens before the DQBUF looks at the queue again.
 */
static bool sched_idle(struct worker *w)
{
	struct sched_param sp = { .sched_priority = 0 };

	if (!chance(w, opt.prof == PROF_DQBUF ? 50 : 5))
		return false;
	return !pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
}

static void sched_normal(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
}

/* Keeps a CPU busy for up to 20 ms, with cheap system calls. */
static void op_spin(struct worker *w)
{
	double end = now_sec() + rnd(w, 20) / 1000.0;

	while (now_sec() < end)
		getppid();
}

static void op_dqbuf(struct worker *w)
{
	struct v4l2_plane pl[MAX_PL];
	unsigned long seq0, seq1;
	struct v4l2_buffer b;
	struct res *v = get_video(w);
	double t0, dt;
	bool idle;
	int ret;

	if (!v)
		return;
	init_buf(w, v, &b, pl, pick_memory(w, v), 0);
	if (V4L2_TYPE_IS_MULTIPLANAR(b.type) && chance(w, 90))
		b.length = MAX_PL;
	idle = sched_idle(w);
	seq0 = take_seq(v);
	t0 = now_sec();
	ret = bioctl(w, v->fd, VIDIOC_DQBUF, &b, S_DQBUF);
	dt = now_sec() - t0;
	if (idle)
		sched_normal();
	seq1 = take_seq(v);
	if (dt >= 0.02) {
		reached(ST_DQ_BLOCKED);
		if (seq1 != seq0 &&
		    atomic_load(&shm->take_slot[v->minor & 255]) != v->slot) {
			reached(ST_DQ_TAKEOVER);
			if (!ret)
				reached(ST_DQ_TAKEOVER_OK);
		}
	}
	if (!ret) {
		check_dequeued(w, v, &b);
		if (chance(w, 75) && b.memory != V4L2_MEMORY_DMABUF)
			queue_buf(w, v, b.memory, b.index, false);
	}
	res_put(v);
}

static void op_stream(struct worker *w)
{
	struct res *v = get_video(w);
	int type;

	if (!v)
		return;
	type = (int)pick_type(w, v);
	if (chance(w, 50)) {
		if (!xioctl(v->fd, VIDIOC_STREAMON, &type, S_STREAMON))
			reached(ST_STREAMING);
	} else {
		xioctl(v->fd, VIDIOC_STREAMOFF, &type, S_STREAMOFF);
	}
	res_put(v);
}

static void add_dmabuf(int fd, int acc)
{
	struct stat st;
	struct res d;

	memset(&d, 0, sizeof(d));
	d.kind = R_DMABUF;
	d.fd = fd;
	d.acc = acc;
	if (!fstat(fd, &st))
		d.ino = st.st_ino;
	d.size = lseek(fd, 0, SEEK_END);
	count(S_DB_LSEEK, d.size);
	if (!res_add(&d))
		count(S_CLOSE, close(fd));
}

static int do_expbuf(struct worker *w, struct res *v, uint32_t index,
		     uint32_t plane, uint32_t flags)
{
	struct v4l2_exportbuffer eb;

	memset(&eb, 0, sizeof(eb));
	eb.type = pick_type(w, v);
	eb.index = index;
	eb.plane = plane;
	eb.flags = flags;
	if (xioctl(v->fd, VIDIOC_EXPBUF, &eb, S_EXPBUF))
		return -1;
	if (never_alloc(v))
		violation(w, "EXPBUF succeeded on handle %u that never allocated",
			  v->slot);
	add_dmabuf(eb.fd, flags & O_ACCMODE);
	return 0;
}

static uint32_t pick_exp_flags(struct worker *w)
{
	static const uint32_t fl[] = {
		O_RDWR, O_RDWR | O_CLOEXEC, O_RDONLY, O_RDONLY | O_CLOEXEC,
		O_WRONLY, O_WRONLY | O_CLOEXEC, O_RDWR, O_RDWR | O_CLOEXEC,
		O_WRONLY | O_RDWR, O_NONBLOCK | O_RDWR, O_APPEND, 0x80000000u,
	};

	return fl[rnd(w, ARRAY_SIZE(fl))];
}

static void op_expbuf(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	do_expbuf(w, v, pick_index(w, v), chance(w, 80) ? 0 : rnd(w, 3),
		  pick_exp_flags(w));
	res_put(v);
}

/* A mapping; @v: the video handle it maps buffer memory of, or NULL. */
static void add_map(void *addr, size_t len, int prot, const struct res *v)
{
	struct res m;

	memset(&m, 0, sizeof(m));
	if (v) {
		m.minor = v->minor;
		m.map_seq = take_seq(v) + 1;
	}
	m.kind = R_MAP;
	m.addr = addr;
	m.len = len;
	m.prot = prot;
	m.pid = getpid();
	if (!res_add(&m))
		count(S_MUNMAP, munmap(addr, len));
}

/* Offset and length of a plane's memory from QUERYBUF; false if none. */
static bool buf_offset(struct worker *w, struct res *v, off_t *off,
		       size_t *len)
{
	struct v4l2_plane pl[MAX_PL];
	struct v4l2_buffer b;
	unsigned int p;

	init_buf(w, v, &b, pl, V4L2_MEMORY_MMAP, rnd(w, v->count + 1));
	b.type = v->type;
	b.length = MAX_PL;
	if (xioctl(v->fd, VIDIOC_QUERYBUF, &b, S_QUERYBUF))
		return false;
	if (!v->mplane) {
		*off = b.m.offset;
		*len = b.length;
		return true;
	}
	p = rnd(w, b.length ? b.length : 1);
	*off = pl[p].m.mem_offset;
	*len = pl[p].length;
	return true;
}

/* Tells a window from a lasting state: the same mmap 100 ms later. */
static const char *remap_again(const struct res *v, size_t len, int prot,
			       int flags, off_t off)
{
	void *addr;

	usleep(100000);
	addr = mmap(NULL, len, prot, flags, v->fd, off);
	if (addr == MAP_FAILED)
		return "100 ms later it fails";
	munmap(addr, len);
	return "100 ms later it still succeeds";
}

static void op_mmap_buf(struct worker *w)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_WRITE, PROT_NONE, PROT_READ | PROT_EXEC,
	};
	struct res *v = get_video(w);
	size_t len = PAGE;
	int prot = prots[rnd(w, ARRAY_SIZE(prots))];
	int flags = chance(w, 90) ? MAP_SHARED : MAP_PRIVATE;
	unsigned int r = rnd(w, 100);
	off_t off = 0;
	void *addr;

	if (!v)
		return;
	if (opt.prof == PROF_MMAP && r < 70) {
		prot = PROT_READ | PROT_WRITE;
		flags = MAP_SHARED;
	} else if (r >= 60 || !buf_offset(w, v, &off, &len)) {
		if (r < 85)
			len = v->sizeimage[0] ? v->sizeimage[0] : PAGE;
		else
			off = rnd(w, 1 << 14) * PAGE + (chance(w, 10) ? 1 : 0);
	}
	if (chance(w, 10))
		len = chance(w, 50) ? len + PAGE : 0;
	if (never_alloc(v))
		reached(ST_NONOWNER_MMAP_TRY);
	addr = mmap(NULL, len, prot, flags, v->fd, off);
	count(S_MMAP, addr == MAP_FAILED ? -1 : 0);
	if (addr != MAP_FAILED) {
		if (never_alloc(v))
			violation(w, "mmap at %#lx succeeded on never-allocating handle %u (%s)",
				  (unsigned long)off, v->slot,
				  remap_again(v, len, prot, flags, off));
		add_map(addr, len, prot, v);
	}
	res_put(v);
}

static void touch_fault(int sig)
{
	if (in_touch)
		siglongjmp(touch_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads (and writes, if writable) the first and last byte of a mapping. */
static int touch(struct res *m)
{
	uint8_t *p = m->addr, c;
	int sig;

	if (!(m->prot & PROT_READ) || !m->len)
		return 0;
	sig = sigsetjmp(touch_jmp, 1);
	if (sig) {
		in_touch = 0;
		return sig;
	}
	in_touch = 1;
	c = __atomic_load_n(&p[0], __ATOMIC_RELAXED);
	c ^= __atomic_load_n(&p[m->len - 1], __ATOMIC_RELAXED);
	if (m->prot & PROT_WRITE)
		__atomic_store_n(&p[m->len - 1], c, __ATOMIC_RELAXED);
	in_touch = 0;
	return 0;
}

static void op_touch(struct worker *w)
{
	struct res *m = res_get(w, R_MAP);
	int sig;

	if (!m)
		return;
	if (m->pid == getpid()) {
		if (m->map_seq &&
		    atomic_load(&shm->take_seq[m->minor & 255]) + 1 != m->map_seq)
			reached(ST_ORPHAN_MAP);
		sig = touch(m);
		count(S_TOUCH, sig ? -1 : 0);
		if (sig)
			violation(w, "signal %d touching a mapping of %zu bytes",
				  sig, m->len);
	}
	res_put(m);
}

static void op_munmap(struct worker *w)
{
	struct res *m = res_get(w, R_MAP);

	if (m)
		res_kill(m);
}

/* ---- dma-bufs ---- */

static void op_db_mmap(struct worker *w)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_READ,
	};
	struct res *d = res_get(w, R_DMABUF);
	int prot = prots[rnd(w, ARRAY_SIZE(prots))];
	size_t len;
	off_t off = 0;
	void *addr;

	if (!d)
		return;
	len = d->size > 0 ? (size_t)d->size : PAGE;
	if (chance(w, 15))
		len = chance(w, 50) ? len + PAGE : PAGE;
	if (chance(w, 10))
		off = PAGE * rnd(w, 4);
	addr = mmap(NULL, len, prot, chance(w, 90) ? MAP_SHARED :
		    MAP_PRIVATE, d->fd, off);
	count(S_DB_MMAP, addr == MAP_FAILED ? -1 : 0);
	if (addr != MAP_FAILED)
		add_map(addr, len, prot, NULL);
	res_put(d);
}

static void op_db_sync(struct worker *w)
{
	static const uint64_t fl[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		0, DMA_BUF_SYNC_END, 0x100, ~0ULL,
	};
	struct res *d = res_get(w, R_DMABUF);
	struct dma_buf_sync s;

	if (!d)
		return;
	s.flags = fl[rnd(w, ARRAY_SIZE(fl))];
	bioctl(w, d->fd, DMA_BUF_IOCTL_SYNC, &s, S_DB_SYNC);
	res_put(d);
}

static uint32_t pick_sync_flags(struct worker *w)
{
	static const uint32_t fl[] = {
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, 0, 4, ~0u,
	};

	return fl[rnd(w, ARRAY_SIZE(fl))];
}

static void add_fd(int kind, int fd)
{
	struct res s;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.fd = fd;
	if (!res_add(&s))
		count(S_CLOSE, close(fd));
}

static void op_db_export_sync(struct worker *w)
{
	struct dma_buf_export_sync_file e;
	struct res *d = res_get(w, R_DMABUF);

	if (!d)
		return;
	e.flags = pick_sync_flags(w);
	e.fd = -1;
	if (!xioctl(d->fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e,
		    S_DB_EXPORT_SYNC))
		add_fd(R_SYNC, e.fd);
	res_put(d);
}

static void op_db_import_sync(struct worker *w)
{
	struct dma_buf_import_sync_file im;
	struct res *d = res_get(w, R_DMABUF);
	struct res *s = res_get(w, R_SYNC);

	if (d) {
		im.flags = pick_sync_flags(w);
		im.fd = s ? s->fd : (chance(w, 50) ? -1 : d->fd);
		xioctl(d->fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &im,
		       S_DB_IMPORT_SYNC);
	}
	res_put(s);
	res_put(d);
}

static void op_db_name(struct worker *w)
{
	struct res *d = res_get(w, R_DMABUF);
	char name[80];
	unsigned int n = rnd(w, 70), i;

	if (!d)
		return;
	for (i = 0; i < n; i++)
		name[i] = 'a' + rnd(w, 26);
	name[n] = 0;
	xioctl(d->fd, DMA_BUF_SET_NAME, chance(w, 95) ? name : NULL,
	       S_DB_SET_NAME);
	res_put(d);
}

static void op_db_poll(struct worker *w)
{
	static const short ev[] = { POLLIN, POLLOUT, POLLIN | POLLOUT, POLLPRI };
	struct res *d = res_get(w, R_DMABUF);
	struct pollfd pfd;

	if (!d)
		return;
	pfd.fd = d->fd;
	pfd.events = ev[rnd(w, ARRAY_SIZE(ev))];
	count(S_DB_POLL, poll(&pfd, 1, rnd(w, 20)));
	res_put(d);
}

/* The size of a dma-buf must never change (checked when still the same). */
static void op_db_lseek(struct worker *w)
{
	static const int whence[] = { SEEK_SET, SEEK_CUR, SEEK_DATA };
	struct res *d = res_get(w, R_DMABUF);
	struct stat st;
	off_t size;

	if (!d)
		return;
	if (chance(w, 20)) {
		count(S_DB_LSEEK, lseek(d->fd, rnd(w, 3) * PAGE,
					whence[rnd(w, ARRAY_SIZE(whence))]));
	} else if (!fstat(d->fd, &st) && st.st_ino == d->ino) {
		size = lseek(d->fd, 0, SEEK_END);
		count(S_DB_LSEEK, size);
		if (size >= 0 && !fstat(d->fd, &st) && st.st_ino == d->ino &&
		    size != d->size)
			violation(w, "dma-buf ino %lu: size %ld, was %ld",
				  (unsigned long)d->ino, (long)size,
				  (long)d->size);
	}
	res_put(d);
}

static void op_db_read(struct worker *w)
{
	struct res *d = res_get(w, R_DMABUF);
	char buf[64];

	if (!d)
		return;
	if (chance(w, 50))
		count(S_DB_READ, read(d->fd, buf, sizeof(buf)));
	else
		count(S_DB_READ, write(d->fd, buf, sizeof(buf)));
	res_put(d);
}

static bool is_dmabuf_fd(int fd)
{
	char path[64], link[128];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	return strstr(link, "dmabuf");
}

/*
 * Replaces a dma-buf fd that is open but not yet in the table (another
 * thread's EXPBUF or PRIME export is installing it) with /dev/null: the
 * "close the new fd at once" race of dma_buf_fd().
 */
static void op_steal(struct worker *w)
{
	int probe, c, i;

	probe = fcntl(null_fd, F_DUPFD_CLOEXEC, 0);
	if (probe < 0)
		return;
	close(probe);
	for (i = 0; i < 40 + (int)rnd(w, 40); i++) {
		for (c = probe - 2; c <= probe + 2; c++) {
			if (c <= 2 || c == null_fd)
				continue;
			pthread_mutex_lock(&lock);
			if (!fd_known(c) && is_dmabuf_fd(c)) {
				count(S_DB_STEAL, dup3(null_fd, c, O_CLOEXEC));
				reached(ST_STOLEN);
			}
			pthread_mutex_unlock(&lock);
		}
	}
}

/* ---- vgem and sync_files ---- */

static void op_vgem_open(struct worker *w)
{
	int fd;

	if (!vgem_path[0] || chance(w, 50))
		return;
	fd = open(vgem_path, O_RDWR | O_CLOEXEC);
	count(S_VGEM_OPEN, fd);
	if (fd >= 0)
		add_fd(R_VGEM, fd);
}

static struct res *get_vgem(struct worker *w)
{
	struct res *g = res_get(w, R_VGEM);

	if (!g) {
		op_vgem_open(w);
		g = res_get(w, R_VGEM);
	}
	return g;
}

static void vgem_fence(struct worker *w, struct res *g, uint32_t handle)
{
	struct vgem_fence_attach fa;

	memset(&fa, 0, sizeof(fa));
	fa.handle = handle;
	fa.flags = chance(w, 70) ? 1 : (chance(w, 50) ? 0 : 2);
	if (!xioctl(g->fd, VGEM_FENCE_ATTACH, &fa, S_VGEM_FENCE_ATTACH))
		g->fence[rnd(w, 4)] = fa.out_fence;
}

/* Imports one of our dma-bufs into vgem, maybe adds a vgem fence to it. */
static void op_vgem_import(struct worker *w)
{
	struct res *g = get_vgem(w);
	struct res *d = res_get(w, R_DMABUF);
	struct drm_prime_handle ph;
	struct drm_gem_close gc;
	unsigned int k = rnd(w, 4);

	if (g && d) {
		memset(&ph, 0, sizeof(ph));
		ph.fd = d->fd;
		if (!xioctl(g->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph,
			    S_PRIME_FD_TO_HANDLE)) {
			if (g->gem[k]) {
				gc.handle = g->gem[k];
				gc.pad = 0;
				xioctl(g->fd, DRM_IOCTL_GEM_CLOSE, &gc,
				       S_GEM_CLOSE);
			}
			g->gem[k] = ph.handle;
			if (chance(w, 60))
				vgem_fence(w, g, ph.handle);
		}
	}
	res_put(d);
	res_put(g);
}

static void op_vgem_signal(struct worker *w)
{
	struct res *g = res_get(w, R_VGEM);
	struct vgem_fence_signal fs;
	unsigned int k = rnd(w, 4);

	if (!g)
		return;
	fs.fence = chance(w, 90) ? g->fence[k] : rnd(w, 1000);
	fs.flags = chance(w, 95) ? 0 : 1;
	xioctl(g->fd, VGEM_FENCE_SIGNAL, &fs, S_VGEM_FENCE_SIGNAL);
	res_put(g);
}

/* A foreign dma-buf: a vgem dumb buffer, exported, maybe fenced. */
static void op_vgem_export(struct worker *w)
{
	static const uint32_t bpp[] = { 16, 32, 8, 12 };
	struct res *g = get_vgem(w);
	struct drm_mode_create_dumb cd;
	struct drm_prime_handle ph;
	struct drm_gem_close gc;

	if (!g)
		return;
	memset(&cd, 0, sizeof(cd));
	pick_size(w, &cd.width, &cd.height);
	cd.bpp = bpp[rnd(w, ARRAY_SIZE(bpp))];
	if (!xioctl(g->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd, S_CREATE_DUMB)) {
		memset(&ph, 0, sizeof(ph));
		ph.handle = cd.handle;
		ph.flags = DRM_CLOEXEC | (chance(w, 80) ? DRM_RDWR : 0);
		if (chance(w, 30))
			vgem_fence(w, g, cd.handle);
		if (!xioctl(g->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph,
			    S_PRIME_HANDLE_TO_FD))
			add_dmabuf(ph.fd, ph.flags & O_ACCMODE);
		gc.handle = cd.handle;
		gc.pad = 0;
		xioctl(g->fd, DRM_IOCTL_GEM_CLOSE, &gc, S_GEM_CLOSE);
	}
	res_put(g);
}

static void op_swsync(struct worker *w)
{
	struct sw_sync_create_fence cf;
	struct res *t;
	uint32_t inc;
	int fd;

	if (!have_sw_sync)
		return;
	t = res_get(w, R_TIMELINE);
	if (!t) {
		fd = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
		count(S_SWSYNC_OPEN, fd);
		if (fd >= 0)
			add_fd(R_TIMELINE, fd);
		return;
	}
	if (chance(w, 60)) {
		memset(&cf, 0, sizeof(cf));
		cf.value = t->tl_value + 1 + rnd(w, 3);
		snprintf(cf.name, sizeof(cf.name), "vx-fuzz");
		if (!xioctl(t->fd, SW_SYNC_CREATE_FENCE, &cf,
			    S_SWSYNC_CREATE_FENCE))
			add_fd(R_SYNC, cf.fence);
	} else {
		inc = 1 + rnd(w, 2);
		if (!xioctl(t->fd, SW_SYNC_INC, &inc, S_SWSYNC_INC))
			t->tl_value += inc;
	}
	res_put(t);
}

static void op_sync(struct worker *w)
{
	struct res *a = res_get(w, R_SYNC), *b = res_get(w, R_SYNC);
	struct sync_merge_data md;
	struct sync_file_info fi;
	struct pollfd pfd;

	if (a && b && chance(w, 30)) {
		memset(&md, 0, sizeof(md));
		snprintf(md.name, sizeof(md.name), "vx-merge");
		md.fd2 = b->fd;
		if (!xioctl(a->fd, SYNC_IOC_MERGE, &md, S_SYNC_MERGE))
			add_fd(R_SYNC, md.fence);
	} else if (a && chance(w, 50)) {
		memset(&fi, 0, sizeof(fi));
		xioctl(a->fd, SYNC_IOC_FILE_INFO, &fi, S_SYNC_FILE_INFO);
	} else if (a) {
		pfd.fd = a->fd;
		pfd.events = POLLIN;
		count(S_SYNC_POLL, poll(&pfd, 1, rnd(w, 30)));
	}
	res_put(b);
	res_put(a);
}

/* ---- file descriptors and processes ---- */

static void op_close(struct worker *w)
{
	static const int kinds[] = {
		R_VIDEO, R_VIDEO, R_DMABUF, R_DMABUF, R_SYNC, R_VGEM,
		R_TIMELINE, R_MAP,
	};
	struct res *r = res_get(w, kinds[rnd(w, ARRAY_SIZE(kinds))]);

	if (r)
		res_kill(r);
}

static void op_dup(struct worker *w)
{
	struct res *r = res_get(w, chance(w, 60) ? R_VIDEO : R_DMABUF);
	struct res c;
	int fd;

	if (!r)
		return;
	fd = chance(w, 50) ? dup(r->fd) : fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
	count(S_DUP, fd);
	if (fd >= 0) {
		c = *r;
		c.fd = fd;
		if (!res_add(&c))
			count(S_CLOSE, close(fd));
	}
	res_put(r);
}

static void run_worker(struct worker *w);
static void *watchdog(void *arg);

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		atomic_fetch_sub(&shm->children, 1);
}

/* The child goes on, alone, with everything the parent had open. */
static __attribute__((noreturn)) void child_main(struct worker *parent,
						 uint64_t seed)
{
	struct worker *w = &workers[0];
	unsigned int idx = parent->idx;
	pthread_t wd;

	pthread_mutex_init(&lock, NULL);
	memset(w, 0, sizeof(*w));
	w->stream = seed;
	w->idx = idx;
	w->child = true;
	w->budget = CHILD_OPS;
	w->tid = pthread_self();
	n_workers = 1;
	atomic_store(&proc_done, false);
	reached(ST_CHILDREN);
	if (pthread_create(&wd, NULL, watchdog, NULL))
		_exit(0);
	run_worker(w);
	_exit(0);
}

static void op_fork(struct worker *w)
{
	uint64_t seed = splitmix(&w->rng);
	pid_t pid;

	if (w->child || atomic_load(&shm->children) >= MAX_CHILDREN ||
	    w->budget - w->op < 2 * CHILD_OPS)
		return;
	/* the child's operations count in the parent's share */
	w->budget -= CHILD_OPS;
	atomic_fetch_add(&shm->children, 1);
	fflush(stdout);
	/*
	 * With the table locked no release is half done (fd closed, entry
	 * still there): the child's table matches its fds exactly.
	 */
	pthread_mutex_lock(&lock);
	pid = fork();
	if (pid)
		pthread_mutex_unlock(&lock);
	count(S_FORK, pid);
	if (pid < 0)
		atomic_fetch_sub(&shm->children, 1);
	if (!pid)
		child_main(w, seed);
}

/* ---- scenarios: short sequences that reach deep states ---- */

static void stream_up(struct worker *w, struct res *v, uint32_t memory)
{
	int type = (int)v->type;
	uint32_t i;

	if (do_reqbufs(v, v->type, memory, 2 + rnd(w, 4)))
		return;
	for (i = 0; i < v->count; i++)
		queue_buf(w, v, memory, i, false);
	if (!xioctl(v->fd, VIDIOC_STREAMON, &type, S_STREAMON))
		reached(ST_STREAMING);
}

static void sc_stream(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	stream_up(w, v, chance(w, 80) || !v->output ? V4L2_MEMORY_MMAP :
		  V4L2_MEMORY_DMABUF);
	res_put(v);
}

static struct res *find_path(const struct res *v, char *path, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", v->fd);
	n = readlink(link, path, len - 1);
	if (n <= 0)
		return NULL;
	path[n] = 0;
	return (struct res *)v;
}

/*
 * The owner lets go (STREAMOFF and REQBUFS(0), or close) and a new handle
 * takes the queue at once and streams: a blocked DQBUF of the old owner
 * must not see the new owner's buffers.
 */
static void sc_takeover(struct worker *w)
{
	bool want_out = opt.prof == PROF_DQBUF;
	struct res *v = get_video(w);
	int type;
	struct res n;
	char path[64];

	if (!v)
		return;
	if (!find_path(v, path, sizeof(path)) || (want_out && !v->output)) {
		res_put(v);
		return;
	}
	/* the new handle is ready first: the queue changes hands at once */
	if (!open_handle(w, path, false, &n)) {
		res_put(v);
		return;
	}
	type = (int)v->type;
	xioctl(v->fd, VIDIOC_STREAMOFF, &type, S_STREAMOFF);
	do_reqbufs(v, v->type, v->mem ? v->mem : V4L2_MEMORY_MMAP, 0);
	stream_up(w, &n, V4L2_MEMORY_MMAP);
	if (chance(w, 20))
		res_kill(v);
	else
		res_put(v);
	if (n.count)
		reached(ST_TAKEOVER);
	if (!res_add(&n))
		count(S_CLOSE, close(n.fd));
}

static void sc_export_all(struct worker *w)
{
	struct res *v = get_video(w);
	uint32_t i, p;

	if (!v)
		return;
	for (i = 0; i < v->count && i < 8; i++)
		for (p = 0; p < v->nplanes; p++)
			do_expbuf(w, v, i, p, chance(w, 80) ? O_RDWR :
				  pick_exp_flags(w));
	res_put(v);
}

/* Capture buffers' dma-bufs into an output queue, with the loopback on. */
static void sc_loop(struct worker *w)
{
	struct v4l2_control c = { .id = CID_LOOPBACK, .value = 1 };
	struct res *v = get_video(w);

	if (!v)
		return;
	if (v->output) {
		xioctl(v->fd, VIDIOC_S_CTRL, &c, S_S_CTRL);
		stream_up(w, v, V4L2_MEMORY_DMABUF);
	}
	res_put(v);
}

/* REQBUFS(0) then REQBUFS(n) at once: the allocation window of mmap. */
static void sc_realloc(struct worker *w)
{
	struct res *v = get_video(w);

	if (!v)
		return;
	if (!never_alloc(v) || chance(w, 30)) {
		do_reqbufs(v, v->type, V4L2_MEMORY_MMAP, 0);
		do_reqbufs(v, v->type, V4L2_MEMORY_MMAP, 4 + rnd(w, 12));
	}
	res_put(v);
}

/* ---- the module ---- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) < 0 ? -1 : 0;
	close(fd);
	return ret;
}

static void op_param(struct worker *w)
{
	static const char *const vals[] = {
		"0", "0", "64", "256", "16", "4", "1", "100000", "-1", "x",
	};

	if (!n_params)
		return;
	count(S_PARAM_WRITE, write_str(params[rnd(w, n_params)],
				       vals[rnd(w, ARRAY_SIZE(vals))]));
}

static bool modlock_take(void)
{
	return !atomic_exchange(&shm->modlock, 1);
}

static void modlock_drop(void)
{
	atomic_fetch_add(&shm->node_gen, 1);
	atomic_store(&shm->modlock, 0);
}

static void op_unbind(struct worker *w)
{
	char path[320];
	const char *dev;

	if (!n_pdevs || !modlock_take())
		return;
	dev = pdevs[rnd(w, n_pdevs)];
	snprintf(path, sizeof(path), "%s/unbind", pdrv);
	count(S_UNBIND, write_str(path, dev));
	usleep(rnd(w, 30000));
	snprintf(path, sizeof(path), "%s/bind", pdrv);
	count(S_BIND, write_str(path, dev));
	reached(ST_REBIND);
	modlock_drop();
}

static int insert_module(void)
{
	int fd = open(opt.ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, opt.params, 0);
	count(S_FINIT_MODULE, ret);
	close(fd);
	return ret;
}

static void op_rmmod(struct worker *w)
{
	int i;

	(void)w;
	if (!modlock_take())
		return;
	if (!syscall(SYS_delete_module, "vivid_expbuf", O_NONBLOCK)) {
		count(S_DELETE_MODULE, 0);
		reached(ST_RMMOD_OK);
		for (i = 0; i < 5 && insert_module(); i++)
			usleep(100000);
		if (i == 5) {
			printf("vx-fuzz: cannot re-insert %s: %s\n", opt.ko,
			       strerror(errno));
			atomic_store(&shm->stop, 1);
		}
	} else {
		count(S_DELETE_MODULE, -1);
	}
	modlock_drop();
}

/* ---- the operation table ---- */

static const struct action actions[] = {
	/* name, fn, weight for: all, dqbuf, mmap */
	{ "open", op_open, { 30, 20, 60 } },
	{ "close", op_close, { 25, 15, 30 } },
	{ "dup", op_dup, { 8, 4, 0 } },
	{ "fork", op_fork, { 2, 1, 0 } },
	{ "querycap", op_querycap, { 4, 0, 0 } },
	{ "enum_fmt", op_enum_fmt, { 5, 0, 0 } },
	{ "g_fmt", op_g_fmt, { 8, 2, 0 } },
	{ "s_fmt", op_s_fmt, { 20, 2, 0 } },
	{ "parm", op_parm, { 8, 0, 0 } },
	{ "enum_sizes", op_enum_sizes, { 5, 0, 0 } },
	{ "inout", op_inout, { 4, 0, 0 } },
	{ "priority", op_priority, { 2, 0, 0 } },
	{ "ctrl", op_ctrl, { 12, 0, 0 } },
	{ "event", op_event, { 5, 0, 0 } },
	{ "log_status", op_log_status, { 1, 0, 0 } },
	{ "reqbufs", op_reqbufs, { 40, 20, 20 } },
	{ "create_bufs", op_create_bufs, { 15, 0, 0 } },
	{ "querybuf", op_querybuf, { 10, 0, 10 } },
	{ "qbuf", op_qbuf, { 45, 40, 0 } },
	{ "dqbuf", op_dqbuf, { 40, 80, 0 } },
	{ "stream", op_stream, { 25, 20, 0 } },
	{ "spin", op_spin, { 2, 30, 0 } },
	{ "expbuf", op_expbuf, { 30, 0, 5 } },
	{ "mmap_buf", op_mmap_buf, { 20, 0, 200 } },
	{ "touch", op_touch, { 10, 0, 5 } },
	{ "munmap", op_munmap, { 10, 0, 20 } },
	{ "db_mmap", op_db_mmap, { 10, 0, 0 } },
	{ "db_sync", op_db_sync, { 8, 0, 0 } },
	{ "db_export_sync", op_db_export_sync, { 8, 0, 0 } },
	{ "db_import_sync", op_db_import_sync, { 6, 0, 0 } },
	{ "db_name", op_db_name, { 3, 0, 0 } },
	{ "db_poll", op_db_poll, { 6, 0, 0 } },
	{ "db_lseek", op_db_lseek, { 6, 0, 0 } },
	{ "db_read", op_db_read, { 2, 0, 0 } },
	{ "steal", op_steal, { 2, 0, 0 } },
	{ "vgem_import", op_vgem_import, { 6, 0, 0 } },
	{ "vgem_signal", op_vgem_signal, { 5, 0, 0 } },
	{ "vgem_export", op_vgem_export, { 4, 0, 0 } },
	{ "swsync", op_swsync, { 6, 0, 0 } },
	{ "sync", op_sync, { 5, 0, 0 } },
	{ "sc_stream", sc_stream, { 12, 20, 0 } },
	{ "sc_takeover", sc_takeover, { 10, 40, 0 } },
	{ "sc_export_all", sc_export_all, { 6, 0, 0 } },
	{ "sc_loop", sc_loop, { 5, 0, 0 } },
	{ "sc_realloc", sc_realloc, { 8, 0, 120 } },
	{ "param", op_param, { 1, 0, 0 } },
	{ "unbind", op_unbind, { 1, 0, 0 } },
	{ "rmmod", op_rmmod, { 1, 0, 0 } },
};

static unsigned int weight(const struct action *a, enum profile p)
{
	if ((a->fn == op_unbind && !opt.unbind) ||
	    (a->fn == op_rmmod && !opt.rmmod))
		return 0;
	return a->weight[p];
}

static const struct action *pick_action(struct worker *w)
{
	unsigned int r = rnd(w, action_total[opt.prof]), i, wt;

	for (i = 0; i < ARRAY_SIZE(actions); i++) {
		wt = weight(&actions[i], opt.prof);
		if (r < wt)
			return &actions[i];
		r -= wt;
	}
	return &actions[0];
}

static void run_worker(struct worker *w)
{
	const struct action *a;

	while (w->op < w->budget && !atomic_load(&shm->stop) &&
	       now_sec() < t_end) {
		maybe_rescan();
		/*
		 * Each operation has a PRNG of its own, seeded from the
		 * worker's stream: the action of op N is the same in every
		 * run, whatever the ops before it found.
		 */
		w->rng = splitmix(&w->stream);
		a = pick_action(w);
		if (opt.verbose)
			fprintf(stderr, "w%u%s #%lu %s\n", w->idx,
				w->child ? "c" : "", w->op, a->name);
		w->action = a->name;
		a->fn(w);
		w->op++;
		atomic_fetch_add(&shm->ops, 1);
		if (!w->child && !(w->op & 63))
			reap();
	}
}

static void *worker_main(void *arg)
{
	run_worker(arg);
	return NULL;
}

/* Interrupts workers blocked past their deadline. */
static void *watchdog(void *arg)
{
	unsigned int i;
	long dl, t;

	(void)arg;
	while (!atomic_load(&proc_done)) {
		usleep(50000);
		t = now_ms();
		for (i = 0; i < n_workers; i++) {
			dl = atomic_load(&workers[i].deadline);
			if (dl && t > dl) {
				atomic_store(&workers[i].deadline, t + 200);
				pthread_kill(workers[i].tid, SIGUSR1);
			}
		}
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = touch_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	if (dir)
		closedir(dir);
	return n;
}

static void release_all(void)
{
	unsigned int i;

	for (i = 0; i < MAX_RES; i++)
		if (res[i].kind != R_FREE)
			res_release(&res[i]);
	reap();
}

static unsigned long budget_of(unsigned int idx)
{
	unsigned long n = (unsigned long)opt.procs * opt.threads;

	return opt.ops / n + (idx < opt.ops % n ? 1 : 0);
}

/* One fuzzing process: THREADS workers, a watchdog, a leak check. */
static int proc_main(unsigned int p)
{
	pthread_t wd;
	unsigned int i;
	int base;

	alarm(opt.seconds + 120);
	setup_signals();
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	userptr_pool = mmap(NULL, USERPTR_POOL, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (null_fd < 0 || userptr_pool == MAP_FAILED)
		return 2;
	nodes_gen = atomic_load(&shm->node_gen);
	scan_nodes();
	base = count_fds();
	n_workers = opt.threads;
	for (i = 0; i < n_workers; i++) {
		workers[i].idx = p * opt.threads + i;
		workers[i].stream = opt.seed + workers[i].idx;
		workers[i].budget = budget_of(workers[i].idx);
		if (pthread_create(&workers[i].tid, NULL, worker_main,
				   &workers[i]))
			return 2;
	}
	if (pthread_create(&wd, NULL, watchdog, NULL))
		return 2;
	for (i = 0; i < n_workers; i++)
		pthread_join(workers[i].tid, NULL);
	atomic_store(&proc_done, true);
	pthread_join(wd, NULL);
	release_all();
	while (atomic_load(&shm->children) > 0 && now_sec() < t_end + 30) {
		reap();
		usleep(20000);
	}
	if (count_fds() != base) {
		printf("vx-fuzz: VIOLATION seed %llu process %u: fd leak: %d open, %d at start\n",
		       opt.seed, p, count_fds(), base);
		atomic_fetch_add(&shm->violations, 1);
	}
	return 0;
}

/* ---- set-up and report ---- */

static void find_vgem(void)
{
	struct drm_version v;
	char name[16], path[64];
	int i, fd;

	for (i = 0; i < 16 && !vgem_path[0]; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			snprintf(vgem_path, sizeof(vgem_path), "%s", path);
		close(fd);
	}
}

static void find_params(void)
{
	const char *dir = "/sys/module/vivid_expbuf/parameters";
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)) && n_params < ARRAY_SIZE(params)) {
		snprintf(params[n_params], sizeof(params[0]), "%s/%.200s",
			 dir, de->d_name);
		if (de->d_name[0] != '.' && !stat(params[n_params], &st) &&
		    (st.st_mode & 0200))
			n_params++;
	}
	if (d)
		closedir(d);
}

static void find_pdevs(void)
{
	const char *bus = "/sys/bus/platform/drivers";
	struct dirent *de;
	DIR *d = opendir(bus);

	while (d && (de = readdir(d)) && !pdrv[0])
		if (!strncmp(de->d_name, "vivid-expbuf", 12))
			snprintf(pdrv, sizeof(pdrv), "%s/%.200s", bus,
				 de->d_name);
	if (d)
		closedir(d);
	d = pdrv[0] ? opendir(pdrv) : NULL;
	while (d && (de = readdir(d)) && n_pdevs < ARRAY_SIZE(pdevs))
		if (!strncmp(de->d_name, "vivid-expbuf.", 13))
			snprintf(pdevs[n_pdevs++], sizeof(pdevs[0]), "%.31s",
				 de->d_name);
	if (d)
		closedir(d);
}

/* Rebinds every platform device found at the start that is unbound. */
static void rebind_all(void)
{
	char path[340];
	struct stat st;
	unsigned int i;

	for (i = 0; i < n_pdevs; i++) {
		snprintf(path, sizeof(path), "%s/%s", pdrv, pdevs[i]);
		if (stat(path, &st)) {
			snprintf(path, sizeof(path), "%s/bind", pdrv);
			write_str(path, pdevs[i]);
		}
	}
}

static char saved_params[4][32];

static void save_params(bool restore)
{
	unsigned int i;
	ssize_t n;
	int fd;

	for (i = 0; i < n_params; i++) {
		if (restore) {
			write_str(params[i], saved_params[i]);
			continue;
		}
		fd = open(params[i], O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, saved_params[i],
				       sizeof(saved_params[0]) - 1);
		saved_params[i][n > 0 ? n : 0] = 0;
		if (fd >= 0)
			close(fd);
	}
}

static unsigned long errs_of(unsigned int s)
{
	unsigned long calls = 0;
	unsigned int e;

	for (e = 0; e < MAX_ERR; e++)
		calls += atomic_load(&shm->stats[s][e]);
	return calls;
}

static void print_row(unsigned int s)
{
	unsigned long calls = errs_of(s), c;
	unsigned int e;

	if (!calls)
		return;
	printf("  %-32s %9lu ", stat_names[s], calls);
	for (e = 0; e < MAX_ERR; e++) {
		c = atomic_load(&shm->stats[s][e]);
		if (c)
			printf(" %s:%lu", e ? strerrorname_np(e) ?: "E?" : "OK",
			       c);
	}
	printf("\n");
}

static void report(double secs)
{
	unsigned long ops = atomic_load(&shm->ops), errs[MAX_ERR] = { 0 };
	unsigned int s, e, made = 0, ok = 0;

	printf("vx-fuzz: calls and results by errno:\n");
	for (s = 0; s < S_COUNT; s++) {
		print_row(s);
		for (e = 0; e < MAX_ERR; e++)
			errs[e] += atomic_load(&shm->stats[s][e]);
		made += errs_of(s) ? 1 : 0;
		ok += atomic_load(&shm->stats[s][0]) ? 1 : 0;
	}
	printf("vx-fuzz: states reached:\n");
	for (s = 0; s < ST_COUNT; s++)
		printf("  %-55s %lu\n", state_names[s],
		       atomic_load(&shm->states[s]));
	printf("vx-fuzz: calls reached: %u of %u made, %u succeeded; never succeeded:",
	       made, S_COUNT, ok);
	for (s = 0; s < S_COUNT; s++)
		if (!atomic_load(&shm->stats[s][0]))
			printf(" %s", stat_names[s]);
	printf("\n");
	printf("vx-fuzz: errnos reached:");
	for (e = 1; e < MAX_ERR; e++)
		if (errs[e])
			printf(" %s", strerrorname_np(e) ?: "E?");
	printf("\n");
	printf("vx-fuzz: ops %lu in %.1f s (%.0f ops/s)\n", ops, secs,
	       secs > 0 ? ops / secs : 0);
	printf("vx-fuzz: violations %u\n", atomic_load(&shm->violations));
}

static void bad_args(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-p PROCS] [-t THREADS] [-n OPS] [-T SECONDS]\n"
		"          [-X all|dqbuf|mmap] [-U] [-R -m KO [-M PARAMS]] [-v]\n",
		prog);
	exit(2);
}

static enum profile parse_profile(const char *s, const char *prog)
{
	if (!strcmp(s, "all"))
		return PROF_ALL;
	if (!strcmp(s, "dqbuf"))
		return PROF_DQBUF;
	if (!strcmp(s, "mmap"))
		return PROF_MMAP;
	bad_args(prog);
	return PROF_ALL;
}

static void parse_args(int argc, char **argv)
{
	bool seeded = false;
	int c;

	while ((c = getopt(argc, argv, "s:p:t:n:T:X:URm:M:v")) != -1) {
		switch (c) {
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'p':
			opt.procs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			opt.threads = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			opt.ops = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			opt.seconds = strtoul(optarg, NULL, 0);
			break;
		case 'X':
			opt.prof = parse_profile(optarg, argv[0]);
			break;
		case 'U':
			opt.unbind = true;
			break;
		case 'R':
			opt.rmmod = true;
			break;
		case 'm':
			opt.ko = optarg;
			break;
		case 'M':
			opt.params = optarg;
			break;
		case 'v':
			opt.verbose = true;
			break;
		default:
			bad_args(argv[0]);
		}
	}
	if (!opt.procs || opt.procs > MAX_PROCS || !opt.threads ||
	    opt.threads > MAX_THREADS || !opt.seconds || (opt.rmmod && !opt.ko))
		bad_args(argv[0]);
	if (!seeded)
		opt.seed = (unsigned long long)time(NULL) ^
			   ((unsigned long long)getpid() << 32);
}

static void setup(void)
{
	unsigned int i, p;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("vx-fuzz: mmap");
		exit(2);
	}
	find_vgem();
	have_sw_sync = !access(SW_SYNC_PATH, R_OK | W_OK);
	find_params();
	find_pdevs();
	save_params(false);
	for (p = 0; p < PROF_COUNT; p++)
		for (i = 0; i < ARRAY_SIZE(actions); i++)
			action_total[p] += weight(&actions[i], p);
	printf("vx-fuzz: vgem %s, sw_sync %s, %u writable parameters, %u platform devices%s%s\n",
	       vgem_path[0] ? vgem_path : "absent",
	       have_sw_sync ? "present" : "absent", n_params, n_pdevs,
	       opt.unbind ? ", unbind on" : "", opt.rmmod ? ", rmmod on" : "");
}

/* Waits for the processes, at most until @limit; false if some hang. */
static bool wait_procs(pid_t *pids, double limit, int *status)
{
	unsigned int left = opt.procs, i;
	int st;

	while (left && now_sec() < limit) {
		for (i = 0; i < opt.procs; i++) {
			if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) <= 0)
				continue;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				*status = 1;
			if (!WIFEXITED(st))
				printf("vx-fuzz: VIOLATION seed %llu: process %u killed by %d\n",
				       opt.seed, i, WTERMSIG(st));
			pids[i] = 0;
			left--;
		}
		usleep(50000);
	}
	return !left;
}

int main(int argc, char **argv)
{
	pid_t pids[MAX_PROCS];
	int status = 0;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	printf("vx-fuzz: seed %llu\n", opt.seed);
	printf("vx-fuzz: %u processes x %u threads, %lu ops, %u s, profile %s\n",
	       opt.procs, opt.threads, opt.ops, opt.seconds,
	       opt.prof == PROF_ALL ? "all" : opt.prof == PROF_DQBUF ? "dqbuf" :
	       "mmap");
	setup();
	scan_nodes();
	if (!n_nodes) {
		printf("vx-fuzz: no vivid-expbuf video node\n");
		return 2;
	}
	t_start = now_sec();
	t_end = t_start + opt.seconds;
	for (i = 0; i < opt.procs; i++) {
		pids[i] = fork();
		if (!pids[i])
			_exit(proc_main(i));
	}
	if (!wait_procs(pids, t_end + 150, &status)) {
		printf("vx-fuzz: VIOLATION seed %llu: hang: a process runs past -T + %u s\n",
		       opt.seed, 150);
		status = 1;
	}
	if (opt.unbind)
		rebind_all();
	save_params(true);
	report(now_sec() - t_start);
	if (atomic_load(&shm->violations))
		status = 1;
	printf("vx-fuzz: verdict %s (seed %llu)\n", status ? "VIOLATION" : "ok",
	       opt.seed);
	return status;
}
