// SPDX-License-Identifier: GPL-2.0-only
/*
 * VIDIOC_EXPBUF tests: exporting MMAP buffers as dma-bufs, the errors of
 * EXPBUF, the dma-buf file (close-on-exec, size, mmap rights, sync, poll),
 * VM_PFNMAP mappings that cannot be pinned, exports that outlive their
 * queue (orphans), passing an export to another process, and the module's
 * bound on the memory that exports keep alive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "v4l2-lib.h"

#define WIDTH		320
#define HEIGHT		240
#define NBUFS		4
#define LIMIT_PARAM	"/sys/module/vivid_expbuf/parameters/mem_limit_mb"
#define LIMIT_MB	16
#define LIMIT_ROUNDS	64
#define CHILD_SECS	20

/* The exports of one buffer, one dma-buf per plane, and their mappings. */
struct xbuf {
	int fd[VLIB_MAX_PLANES];
	void *map[VLIB_MAX_PLANES];
	size_t len[VLIB_MAX_PLANES];
	unsigned int num_planes;
};

/* What the owner tells the child that receives an export. */
struct child_req {
	struct vlib_fmt fmt;
	uint32_t sequence;
	uint32_t nfds;
};

/* What the child answers. */
struct child_reply {
	int ok;
	char msg[400];
};

static struct vlib_dev d1, d2;
static struct vlib_fmt fmt;
static const char *node;
static size_t page;
static char saved_limit[32];
static bool limit_changed;

static bool expect_errno(int ret, int err, int want, const char *name)
{
	return tap_errno(ret, err, want, "expbuf: %s", name);
}

static bool expect_ok(int ret, int err, const char *name)
{
	if (tap_ok(ret >= 0, "expbuf: %s", name))
		return true;
	tap_diag("expected success, got %s", tap_errname(ret, err));
	return false;
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void xbuf_init(struct xbuf *x)
{
	unsigned int p;

	memset(x, 0, sizeof(*x));
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		x->fd[p] = -1;
}

/*
 * Exports every plane of buffer @index with @flags. Returns 0, or -1 with
 * errno set and @why describing the failure; exports made so far stay.
 */
static int xbuf_export(struct vlib_dev *d, uint32_t index, uint32_t flags,
		       struct xbuf *x, char *why, size_t len)
{
	struct vlib_frame fr;
	unsigned int p;

	xbuf_init(x);
	if (vlib_querybuf(d, index, &fr)) {
		snprintf(why, len, "QUERYBUF %u: %s", index, strerror(errno));
		return -1;
	}
	x->num_planes = fmt.num_planes;
	for (p = 0; p < x->num_planes; p++) {
		x->len[p] = fr.length[p];
		x->fd[p] = vlib_expbuf(d, index, p, flags);
		if (x->fd[p] < 0) {
			int err = errno;

			snprintf(why, len, "EXPBUF index %u plane %u: %s",
				 index, p, strerror(err));
			errno = err;
			return -1;
		}
	}
	return 0;
}

/* Maps every exported plane with @prot. Returns 0 or -1 with @why set. */
static int xbuf_map(struct xbuf *x, int prot, char *why, size_t len)
{
	unsigned int p;

	for (p = 0; p < x->num_planes; p++) {
		void *m;

		if (x->fd[p] < 0) {
			snprintf(why, len, "plane %u was not exported", p);
			return -1;
		}
		m = mmap(NULL, x->len[p], prot, MAP_SHARED, x->fd[p], 0);
		if (m == MAP_FAILED) {
			snprintf(why, len, "mmap of the export of plane %u: %s",
				 p, strerror(errno));
			return -1;
		}
		x->map[p] = m;
	}
	return 0;
}

static bool xbuf_mapped(const struct xbuf *x)
{
	return x->num_planes && x->map[0] &&
	       (x->num_planes < 2 || x->map[1]);
}

static void xbuf_release(struct xbuf *x)
{
	unsigned int p;

	for (p = 0; p < VLIB_MAX_PLANES; p++) {
		if (x->map[p])
			munmap(x->map[p], x->len[p]);
		close_if(x->fd[p]);
	}
	xbuf_init(x);
}

static bool all_zero(void *const start[], const size_t len[], unsigned int n)
{
	unsigned int p;
	size_t i;

	for (p = 0; p < n; p++) {
		const uint8_t *b = start[p];

		if (!b)
			return false;
		for (i = 0; i < len[p]; i++)
			if (b[i])
				return false;
	}
	return true;
}

/* Compares the planes of @a with the saved copies (sizeimage bytes). */
static bool same_bytes(void *const a[], uint8_t *const copy[], char *why,
		       size_t len)
{
	unsigned int p;

	for (p = 0; p < fmt.num_planes; p++) {
		if (!a[p] || !copy[p]) {
			snprintf(why, len, "plane %u not mapped or not saved",
				 p);
			return false;
		}
		if (memcmp(a[p], copy[p], fmt.sizeimage[p])) {
			snprintf(why, len, "plane %u differs from the frame",
				 p);
			return false;
		}
	}
	return true;
}

static void free_copy(uint8_t *copy[])
{
	unsigned int p;

	for (p = 0; p < VLIB_MAX_PLANES; p++) {
		free(copy[p]);
		copy[p] = NULL;
	}
}

/* Saves sizeimage bytes of each plane of @src into fresh @copy buffers. */
static void save_copy(void *const src[], uint8_t *copy[])
{
	unsigned int p;

	for (p = 0; p < fmt.num_planes; p++) {
		copy[p] = NULL;
		if (!src[p])
			continue;
		copy[p] = malloc(fmt.sizeimage[p]);
		if (copy[p])
			memcpy(copy[p], src[p], fmt.sizeimage[p]);
	}
}

/* Queues buffers 0..count-1, starts streaming and dequeues one frame. */
static int capture(struct vlib_dev *d, int count, struct vlib_frame *fr,
		   char *why, size_t len)
{
	int i;

	for (i = 0; i < count; i++) {
		if (vlib_qbuf_mmap(d, i)) {
			snprintf(why, len, "QBUF %d: %s", i, strerror(errno));
			return -1;
		}
	}
	if (vlib_streamon(d)) {
		snprintf(why, len, "STREAMON: %s", strerror(errno));
		return -1;
	}
	if (vlib_dqbuf(d, V4L2_MEMORY_MMAP, fr, VLIB_DQBUF_TIMEOUT_MS)) {
		snprintf(why, len, "DQBUF: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int limit_count(int n)
{
	return n > NBUFS ? NBUFS : n;
}

static void error_checks(void)
{
	struct v4l2_exportbuffer eb;
	struct vlib_frame fr;
	int ret, err, count;
	char why[200];
	void *m;

	count = limit_count(vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS, NULL));
	if (count < 1)
		tap_diag("REQBUFS(%d): %s", NBUFS, strerror(errno));

	ret = vlib_expbuf(&d2, 0, 0, O_CLOEXEC | O_RDWR);
	expect_errno(ret, errno, EBUSY, "non-owner export gets EBUSY");
	close_if(ret);
	ret = vlib_querybuf(&d2, 0, &fr);
	if (ret) {
		tap_ok(false, "expbuf: non-owner mmap gets EBUSY");
		tap_diag("non-owner QUERYBUF: %s", strerror(errno));
	} else {
		off_t off = d2.mplane ? fr.planes[0].m.mem_offset :
					fr.buf.m.offset;

		m = mmap(NULL, fr.length[0], PROT_READ, MAP_SHARED, d2.fd, off);
		err = errno;
		expect_errno(m == MAP_FAILED ? -1 : 0, err, EBUSY,
			     "non-owner mmap gets EBUSY");
		if (m != MAP_FAILED)
			munmap(m, fr.length[0]);
	}

	ret = vlib_expbuf(&d1, 0, 0, O_RDWR | O_NONBLOCK);
	expect_errno(ret, errno, EINVAL, "flag O_NONBLOCK gets EINVAL");
	close_if(ret);
	ret = vlib_expbuf(&d1, 0, 0, O_RDWR | O_APPEND);
	expect_errno(ret, errno, EINVAL, "flag O_APPEND gets EINVAL");
	close_if(ret);
	ret = vlib_expbuf(&d1, 0, 0, O_RDWR | 0x80000000u);
	expect_errno(ret, errno, EINVAL, "flag 0x80000000 gets EINVAL");
	close_if(ret);

	memset(&eb, 0, sizeof(eb));
	eb.type = d1.other_type;
	eb.flags = O_CLOEXEC | O_RDWR;
	ret = xioctl(d1.fd, VIDIOC_EXPBUF, &eb);
	expect_errno(ret, errno, EINVAL, "wrong buffer type gets EINVAL");
	if (!ret)
		close_if(eb.fd);

	ret = vlib_expbuf(&d1, count < 1 ? NBUFS : count, 0, O_CLOEXEC);
	expect_errno(ret, errno, EINVAL, "index >= count gets EINVAL");
	close_if(ret);
	ret = vlib_expbuf(&d1, 0, fmt.num_planes, O_CLOEXEC);
	expect_errno(ret, errno, EINVAL, "plane >= num_planes gets EINVAL");
	close_if(ret);

	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	if (ret)
		tap_diag("REQBUFS(0): %s", strerror(errno));
	ret = vlib_expbuf(&d1, 0, 0, O_CLOEXEC);
	expect_errno(ret, errno, EINVAL, "no buffers gets EINVAL");
	close_if(ret);

	count = vlib_has_userptr(&d1) ?
		vlib_reqbufs(&d1, V4L2_MEMORY_USERPTR, 2, NULL) : 0;
	if (!vlib_has_userptr(&d1)) {
		tap_skip("no USERPTR on this queue",
			 "expbuf: userptr queue gets EINVAL");
	} else if (count < 1) {
		tap_ok(false, "expbuf: userptr queue gets EINVAL");
		tap_diag("REQBUFS(USERPTR): %s", strerror(errno));
	} else {
		ret = vlib_expbuf(&d1, 0, 0, O_CLOEXEC);
		expect_errno(ret, errno, EINVAL, "userptr queue gets EINVAL");
		close_if(ret);
	}
	vlib_reqbufs(&d1, V4L2_MEMORY_USERPTR, 0, NULL);

	if (!tap_ok(!vlib_smoke_stream(&d1, why, sizeof(why)),
		    "expbuf: queue streams after export errors"))
		tap_diag("%s", why);
}

/*
 * Runs /bin/sh in a child after exec and asks whether @fd is open there.
 * Returns 1 if it is, 0 if not, -1 if the child could not be run.
 */
static int fd_open_after_exec(int fd)
{
	char cmd[64];
	int status, i;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "test -e /proc/self/fd/%d", fd);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	if (i == 1000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return WEXITSTATUS(status) == 0;
}

static void cloexec_checks(void)
{
	int a, b, fl, r;

	a = vlib_expbuf(&d1, 0, 0, O_CLOEXEC | O_RDONLY);
	b = vlib_expbuf(&d1, 0, 0, O_RDONLY);
	if (a < 0 || b < 0)
		tap_diag("EXPBUF: with O_CLOEXEC fd %d, without fd %d: %s",
			 a, b, strerror(errno));
	fl = a < 0 ? -1 : fcntl(a, F_GETFD);
	if (!tap_ok(fl >= 0 && (fl & FD_CLOEXEC),
		    "expbuf: O_CLOEXEC export has FD_CLOEXEC"))
		tap_diag("F_GETFD: %d", fl);
	fl = b < 0 ? -1 : fcntl(b, F_GETFD);
	if (!tap_ok(fl >= 0 && !(fl & FD_CLOEXEC),
		    "expbuf: export without O_CLOEXEC has no FD_CLOEXEC"))
		tap_diag("F_GETFD: %d", fl);
	r = a < 0 ? -1 : fd_open_after_exec(a);
	if (!tap_ok(r == 0, "expbuf: O_CLOEXEC export is closed across exec"))
		tap_diag("fd %d after exec: %s", a,
			 r < 0 ? "could not check" : "still open");
	r = b < 0 ? -1 : fd_open_after_exec(b);
	if (!tap_ok(r == 1,
		    "expbuf: export without O_CLOEXEC stays open across exec"))
		tap_diag("fd %d after exec: %s", b,
			 r < 0 ? "could not check" : "closed");
	close_if(a);
	close_if(b);
}

/* mmap rights and limits, DMA_BUF_IOCTL_SYNC and poll on buffer 0. */
static void file_checks(struct xbuf *ro, struct vlib_buf *vb)
{
	static const uint64_t sync_flags[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW,
		DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	struct pollfd pfd[2];
	size_t len = ro->len[0];
	int fd = ro->fd[0], rw, ret, err, second;
	unsigned int i;
	uint8_t *m;

	m = mmap(NULL, len + page, PROT_READ, MAP_SHARED, fd, 0);
	err = errno;
	if (!tap_ok(fd >= 0 && m == MAP_FAILED,
		    "expbuf: mmap longer than the export fails"))
		tap_diag("fd %d, mmap of %zu bytes: %s", fd, len + page,
			 m == MAP_FAILED ? strerror(err) : "succeeded");
	if (m != MAP_FAILED)
		munmap(m, len + page);
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, page);
	err = errno;
	if (!tap_ok(fd >= 0 && m == MAP_FAILED,
		    "expbuf: mmap at an offset past the export fails"))
		tap_diag("fd %d, mmap of %zu bytes at %zu: %s", fd, len, page,
			 m == MAP_FAILED ? strerror(err) : "succeeded");
	if (m != MAP_FAILED)
		munmap(m, len);

	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	if (fd < 0)
		err = EBADF;
	expect_errno(m == MAP_FAILED ? -1 : 0, err, EACCES,
		     "PROT_WRITE mmap of an O_RDONLY export gets EACCES");
	if (m != MAP_FAILED)
		munmap(m, len);

	rw = vlib_expbuf(&d1, 0, 0, O_CLOEXEC | O_RDWR);
	err = errno;
	m = MAP_FAILED;
	if (rw >= 0) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
		err = errno;
	}
	expect_ok(m == MAP_FAILED ? -1 : 0, err,
		  "PROT_WRITE mmap of an O_RDWR export works");
	if (m != MAP_FAILED) {
		const uint8_t *v = vb->start[0];

		m[len / 2] = 0x5a;
		if (!tap_ok(v && v[len / 2] == 0x5a,
			    "expbuf: write through an export shows in the V4L2 mapping"))
			tap_diag("V4L2 mapping reads 0x%02x", v ? v[len / 2] : 0);
		m[len / 2] = 0;
		munmap(m, len);
	} else {
		tap_ok(false,
		       "expbuf: write through an export shows in the V4L2 mapping");
	}

	ret = rw < 0 ? -1 : 0;
	err = rw < 0 ? EBADF : 0;
	for (i = 0; i < sizeof(sync_flags) / sizeof(*sync_flags) && !ret; i++) {
		struct dma_buf_sync s = { .flags = sync_flags[i] };

		ret = xioctl(rw, DMA_BUF_IOCTL_SYNC, &s);
		err = errno;
	}
	if (!tap_ok(!ret, "expbuf: DMA_BUF_IOCTL_SYNC start/end returns 0"))
		tap_diag("sync flags 0x%llx: %s",
			 i ? (unsigned long long)sync_flags[i - 1] : 0ULL,
			 strerror(err));
	close_if(rw);

	second = vlib_expbuf(&d1, 0, 0, O_CLOEXEC | O_RDONLY);
	pfd[0].fd = fd;
	pfd[1].fd = second;
	pfd[0].events = POLLIN;
	pfd[1].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].revents = 0;
	ret = (fd < 0 || second < 0) ? -1 : poll(pfd, 2, 200);
	if (!tap_ok(ret == 2 && (pfd[0].revents & POLLIN) &&
		    (pfd[1].revents & POLLIN),
		    "expbuf: two exports of one plane poll readable when idle"))
		tap_diag("fds %d %d, poll %d, revents 0x%x 0x%x", fd, second,
			 ret, pfd[0].revents, pfd[1].revents);
	close_if(second);
}

/* vmsplice() must refuse the dma-buf mapping: it is VM_PFNMAP. */
static void vmsplice_checks(void *map)
{
	unsigned int flags[2] = { 0, SPLICE_F_GIFT };
	const char *names[2] = {
		"vmsplice of an export mapping fails with EFAULT",
		"vmsplice with SPLICE_F_GIFT of an export mapping fails with EFAULT",
	};
	int p[2], i;

	for (i = 0; i < 2; i++) {
		struct iovec iov = { .iov_base = map, .iov_len = page };
		ssize_t r;
		int err;

		if (!map || pipe(p)) {
			tap_ok(false, "expbuf: %s", names[i]);
			tap_diag("no mapping or no pipe");
			continue;
		}
		r = vmsplice(p[1], &iov, 1, flags[i] | SPLICE_F_NONBLOCK);
		err = errno;
		expect_errno(r < 0 ? -1 : (int)r, err, EFAULT, names[i]);
		close(p[0]);
		close(p[1]);
	}
}

/*
 * The other instance's node must refuse the export mapping as USERPTR
 * memory, after accepting ordinary memory of the same size.
 */
static void userptr_check(void *map, size_t maplen)
{
	const char *name = "USERPTR QBUF of an export mapping fails";
	struct vlib_buf ub;
	struct vlib_fmt of;
	struct vlib_dev d3;
	char path[64];
	void *anon = MAP_FAILED;
	int ret, err, n;

	if (vlib_find_node("vivid-expbuf-", "-vid-cap", node, path,
			   sizeof(path))) {
		tap_skip("no other vivid-expbuf capture node", "expbuf: %s",
			 name);
		return;
	}
	if (vlib_open(&d3, path, 0)) {
		tap_ok(false, "expbuf: %s", name);
		tap_diag("open %s: %s", path, strerror(errno));
		return;
	}
	if (!vlib_has_userptr(&d3)) {
		tap_skip("no USERPTR on the other queue", "expbuf: %s", name);
		vlib_close(&d3);
		return;
	}
	vlib_reqbufs(&d3, V4L2_MEMORY_USERPTR, 0, NULL);
	ret = vlib_set_fmt(&d3, V4L2_PIX_FMT_YUYV, 160, 120, &of);
	n = ret ? -1 : vlib_reqbufs(&d3, V4L2_MEMORY_USERPTR, 2, NULL);
	if (n < 2 || !map || of.sizeimage[0] > maplen) {
		tap_ok(false, "expbuf: %s", name);
		tap_diag("%s: S_FMT/REQBUFS(USERPTR) %d: %s, mapping %p of %zu",
			 path, n, strerror(errno), map, maplen);
		goto out;
	}
	memset(&ub, 0, sizeof(ub));
	ub.num_planes = 1;
	ub.length[0] = of.sizeimage[0];
	anon = mmap(NULL, of.sizeimage[0], PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ub.start[0] = anon;
	if (anon == MAP_FAILED || vlib_qbuf_userptr(&d3, 0, &ub)) {
		tap_ok(false, "expbuf: %s", name);
		tap_diag("%s: control QBUF of anonymous memory: %s", path,
			 strerror(errno));
		goto out;
	}
	ub.start[0] = map;
	ret = vlib_qbuf_userptr(&d3, 1, &ub);
	err = errno;
	if (!tap_ok(ret == -1 && (err == EFAULT || err == EINVAL),
		    "expbuf: %s", name))
		tap_diag("%s: expected errno EFAULT or EINVAL, got %s", path,
			 tap_errname(ret, err));
out:
	vlib_streamoff(&d3);
	vlib_reqbufs(&d3, V4L2_MEMORY_USERPTR, 0, NULL);
	if (anon != MAP_FAILED)
		munmap(anon, of.sizeimage[0]);
	vlib_close(&d3);
}

static bool frame_matches(void *const planes[], uint32_t seq, char *msg,
			  size_t len)
{
	struct vlib_pattern pat = { .sequence = seq };

	if (!planes[0] || (fmt.num_planes > 1 && !planes[1])) {
		snprintf(msg, len, "not mapped");
		return false;
	}
	return pattern_check(&fmt, &pat, planes, msg, len);
}

static void export_capture(void)
{
	struct vlib_buf vb[NBUFS];
	struct xbuf xr[NBUFS], again;
	uint8_t *copy[VLIB_MAX_PLANES] = { NULL, NULL };
	struct v4l2_create_buffers cb;
	struct vlib_frame fr;
	char why[200], msg[400];
	int count, i, ret, err, idx = 0;
	unsigned int p;
	bool ok;

	memset(vb, 0, sizeof(vb));
	xbuf_init(&again);
	for (i = 0; i < NBUFS; i++)
		xbuf_init(&xr[i]);
	count = limit_count(vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS, NULL));
	if (count < 1) {
		tap_diag("REQBUFS(%d): %s", NBUFS, strerror(errno));
		count = 0;
	}
	for (i = 0; i < count; i++)
		if (vlib_mmap_buf(&d1, i, &vb[i]))
			tap_diag("V4L2 mmap of buffer %d: %s", i,
				 strerror(errno));

	ret = count ? 0 : -1;
	snprintf(why, sizeof(why), "no buffers");
	for (i = 0; i < count && !ret; i++)
		ret = xbuf_export(&d1, i, O_CLOEXEC | O_RDONLY, &xr[i], why,
				  sizeof(why));
	if (!tap_ok(!ret, "expbuf: export every plane of every buffer"))
		tap_diag("%s", why);

	ok = count > 0;
	for (i = 0; i < count && ok; i++) {
		for (p = 0; p < xr[i].num_planes && ok; p++) {
			off_t end = xr[i].fd[p] < 0 ? -1 :
				    lseek(xr[i].fd[p], 0, SEEK_END);

			ok = end >= 0 && (size_t)end == page_up(xr[i].len[p]);
			if (!ok)
				tap_diag("buffer %d plane %u: lseek end %lld%s%s, %s %zu",
					 i, p, (long long)end,
					 end < 0 ? " " : "",
					 end < 0 ? strerror(errno) : "",
					 "QUERYBUF length", xr[i].len[p]);
		}
	}
	tap_ok(ok, "expbuf: lseek SEEK_END is the plane length in whole pages");

	ret = count ? 0 : -1;
	snprintf(why, sizeof(why), "no buffers");
	for (i = 0; i < count && !ret; i++)
		ret = xbuf_map(&xr[i], PROT_READ, why, sizeof(why));
	if (!tap_ok(!ret, "expbuf: PROT_READ mmap of every export works"))
		tap_diag("%s", why);

	ok = count > 0;
	for (i = 0; i < count && ok; i++)
		ok = all_zero(vb[i].start, vb[i].length, vb[i].num_planes);
	tap_ok(ok, "expbuf: fresh buffer reads zeros through the V4L2 mmap");
	ok = count > 0;
	for (i = 0; i < count && ok; i++)
		ok = xbuf_mapped(&xr[i]) &&
		     all_zero(xr[i].map, xr[i].len, xr[i].num_planes);
	tap_ok(ok, "expbuf: fresh buffer reads zeros through the export mmap");

	cloexec_checks();
	file_checks(&xr[0], &vb[0]);

	ret = capture(&d1, count, &fr, why, sizeof(why));
	if (!tap_ok(!ret, "expbuf: capture into exported buffers"))
		tap_diag("%s", why);
	if (!ret)
		idx = fr.buf.index < (uint32_t)count ? fr.buf.index : 0;
	if (!tap_ok(!ret && frame_matches(xr[idx].map, fr.buf.sequence, msg,
					  sizeof(msg)),
		    "expbuf: export mmap shows the captured frame"))
		tap_diag("%s", ret ? "no frame" : msg);
	save_copy(vb[idx].start, copy);

	vmsplice_checks(xr[idx].map[0]);
	userptr_check(xr[idx].map[0], xr[idx].len[0]);

	vlib_streamoff(&d1);
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	expect_ok(ret, errno, "reqbufs 0 with exported and mapped buffers");
	ok = !ret && same_bytes(xr[idx].map, copy, why, sizeof(why));
	if (!tap_ok(ok, "expbuf: orphaned export mapping keeps the frame"))
		tap_diag("%s", why);
	ok = !ret && same_bytes(vb[idx].start, copy, why, sizeof(why));
	if (!tap_ok(ok, "expbuf: orphaned V4L2 mapping keeps the frame"))
		tap_diag("%s", why);
	again.num_planes = xr[idx].num_planes;
	for (p = 0; p < again.num_planes; p++) {
		again.len[p] = xr[idx].len[p];
		again.fd[p] = xr[idx].fd[p] < 0 ? -1 : dup(xr[idx].fd[p]);
	}
	ok = !xbuf_map(&again, PROT_READ, why, sizeof(why)) &&
	     same_bytes(again.map, copy, why, sizeof(why));
	if (!tap_ok(ok, "expbuf: new mmap of an orphaned export shows the frame"))
		tap_diag("%s", why);
	xbuf_release(&again);

	ret = vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 1, NULL);
	err = errno;
	expect_ok(ret >= 1 ? 0 : -1, err,
		  "reqbufs 0 ends ownership while exports live");
	vlib_reqbufs(&d2, V4L2_MEMORY_MMAP, 0, NULL);

	memset(&cb, 0, sizeof(cb));
	cb.count = 2;
	cb.memory = V4L2_MEMORY_MMAP;
	cb.format.type = d1.type;
	xioctl(d1.fd, VIDIOC_G_FMT, &cb.format);
	ret = xioctl(d1.fd, VIDIOC_CREATE_BUFS, &cb);
	err = errno;
	expect_ok(ret || cb.count < 1 ? -1 : 0, ret ? err : ENOMEM,
		  "create_bufs after reqbufs 0 while exports live");
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);

	for (i = 0; i < NBUFS; i++) {
		vlib_unmap_buf(&vb[i]);
		xbuf_release(&xr[i]);
	}
	free_copy(copy);
}

/*
 * Allocates up to two buffers on d1, exports each read-only into @xr and
 * captures one frame. Returns 0, or non-zero with the reason in @why.
 */
static int export_and_capture(struct xbuf *xr, int *count,
			      struct vlib_frame *fr, char *why, size_t len)
{
	int i, ret;

	*count = limit_count(vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL));
	ret = *count < 1;
	if (ret)
		snprintf(why, len, "REQBUFS: %s", strerror(errno));
	for (i = 0; i < *count && !ret; i++)
		ret = xbuf_export(&d1, i, O_CLOEXEC | O_RDONLY, &xr[i], why,
				  len);
	if (!ret)
		ret = capture(&d1, *count, fr, why, len);
	return ret;
}

/* The owner closes its file while streaming; the export keeps the frame. */
static void orphan_by_close(void)
{
	uint8_t *copy[VLIB_MAX_PLANES] = { NULL, NULL };
	struct xbuf xr[NBUFS], again;
	struct vlib_frame fr;
	char why[200] = "";
	int count, i, ret;
	unsigned int p;
	bool ok = false;

	xbuf_init(&again);
	for (i = 0; i < NBUFS; i++)
		xbuf_init(&xr[i]);
	ret = export_and_capture(xr, &count, &fr, why, sizeof(why));
	if (!ret) {
		i = fr.buf.index < (uint32_t)count ? fr.buf.index : 0;
		ret = xbuf_map(&xr[i], PROT_READ, why, sizeof(why));
	}
	if (!ret) {
		ok = frame_matches(xr[i].map, fr.buf.sequence, why,
				   sizeof(why));
		save_copy(xr[i].map, copy);
	}
	vlib_close(&d1);
	if (ok)
		ok = same_bytes(xr[i].map, copy, why, sizeof(why));
	if (ok) {
		again.num_planes = xr[i].num_planes;
		for (p = 0; p < again.num_planes; p++) {
			again.len[p] = xr[i].len[p];
			again.fd[p] = dup(xr[i].fd[p]);
		}
		ok = !xbuf_map(&again, PROT_READ, why, sizeof(why)) &&
		     same_bytes(again.map, copy, why, sizeof(why));
	}
	if (!tap_ok(ok, "expbuf: close of the streaming owner keeps the exported frame"))
		tap_diag("%s", why);
	xbuf_release(&again);

	if (vlib_open(&d1, node, 0))
		tap_diag("reopen %s: %s", node, strerror(errno));
	ret = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 2, NULL);
	expect_ok(ret >= 1 ? 0 : -1, errno,
		  "queue usable after owner close while exports live");
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	for (i = 0; i < NBUFS; i++)
		xbuf_release(&xr[i]);
	free_copy(copy);
}

/* PipeWire allocates, exports and frees twice, keeping the fds, then streams. */
static void probe_twice(void)
{
	struct xbuf kept[2][NBUFS];
	char why[200];
	int round, i, count, ret;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NBUFS; i++)
			xbuf_init(&kept[round][i]);
		count = limit_count(vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS,
						 NULL));
		ret = count < 1;
		if (ret)
			snprintf(why, sizeof(why), "REQBUFS: %s",
				 strerror(errno));
		for (i = 0; i < count && !ret; i++)
			ret = xbuf_export(&d1, i, O_CLOEXEC | O_RDWR,
					  &kept[round][i], why, sizeof(why));
		if (vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL) && !ret) {
			snprintf(why, sizeof(why), "REQBUFS(0): %s",
				 strerror(errno));
			ret = -1;
		}
		if (!tap_ok(!ret, "expbuf: probe round %d: reqbufs, export all, reqbufs 0",
			    round + 1))
			tap_diag("%s", why);
	}
	if (!tap_ok(!vlib_smoke_stream(&d1, why, sizeof(why)),
		    "expbuf: streams after two probe rounds with exports kept"))
		tap_diag("%s", why);
	for (round = 0; round < 2; round++)
		for (i = 0; i < NBUFS; i++)
			xbuf_release(&kept[round][i]);
}

static void child_main(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VLIB_MAX_PLANES)];
		struct cmsghdr align;
	} ctl;
	struct child_reply rep = { .ok = 0 };
	void *planes[VLIB_MAX_PLANES] = { NULL, NULL };
	int fds[VLIB_MAX_PLANES] = { -1, -1 };
	struct vlib_pattern pat = { 0 };
	struct child_req req;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	unsigned int p;
	char go;

	alarm(CHILD_SECS);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	if (recvmsg(sock, &mh, 0) != sizeof(req)) {
		snprintf(rep.msg, sizeof(rep.msg), "child: recvmsg: %s",
			 strerror(errno));
		goto reply;
	}
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS && req.nfds &&
	    req.nfds <= VLIB_MAX_PLANES &&
	    c->cmsg_len == CMSG_LEN(sizeof(int) * req.nfds))
		memcpy(fds, CMSG_DATA(c), sizeof(int) * req.nfds);
	if (read(sock, &go, 1) != 1) {
		snprintf(rep.msg, sizeof(rep.msg), "child: no go from owner");
		goto reply;
	}
	if (!req.nfds || fds[0] < 0) {
		snprintf(rep.msg, sizeof(rep.msg), "child: no fd received");
		goto reply;
	}
	for (p = 0; p < req.nfds; p++) {
		size_t len = req.fmt.sizeimage[p];

		planes[p] = mmap(NULL, len, PROT_READ, MAP_SHARED, fds[p], 0);
		if (planes[p] == MAP_FAILED) {
			snprintf(rep.msg, sizeof(rep.msg),
				 "child: mmap of plane %u: %s", p,
				 strerror(errno));
			goto reply;
		}
	}
	pat.sequence = req.sequence;
	rep.ok = pattern_check(&req.fmt, &pat, planes, rep.msg,
			       sizeof(rep.msg));
reply:
	if (write(sock, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	_exit(0);
}

/* Owner sends a captured frame's exports to a child and closes everything. */
static void pass_to_child(void)
{
	const char *name = "child reads a passed export after the owner closed everything";
	union {
		char buf[CMSG_SPACE(sizeof(int) * VLIB_MAX_PLANES)];
		struct cmsghdr align;
	} ctl;
	struct child_reply rep = { .ok = 0 };
	struct child_req req;
	struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
	struct msghdr mh = { 0 };
	struct pollfd pfd;
	struct xbuf xr[NBUFS];
	struct vlib_buf vb;
	struct vlib_frame fr;
	char why[200] = "";
	int sv[2], count, i, ret, status, idx = 0;
	pid_t pid;

	memset(&vb, 0, sizeof(vb));
	for (i = 0; i < NBUFS; i++)
		xbuf_init(&xr[i]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		tap_ok(false, "expbuf: %s", name);
		tap_diag("socketpair: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		vlib_close(&d1);
		vlib_close(&d2);
		child_main(sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		tap_ok(false, "expbuf: %s", name);
		tap_diag("fork: %s", strerror(errno));
		close(sv[0]);
		return;
	}

	memset(&req, 0, sizeof(req));
	ret = export_and_capture(xr, &count, &fr, why, sizeof(why));
	if (!ret) {
		idx = fr.buf.index < (uint32_t)count ? fr.buf.index : 0;
		if (vlib_mmap_buf(&d1, idx, &vb))
			tap_diag("V4L2 mmap of buffer %d: %s", idx,
				 strerror(errno));
		req.fmt = fmt;
		req.sequence = fr.buf.sequence;
		req.nfds = xr[idx].num_planes;
	}
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (req.nfds) {
		struct cmsghdr *c;

		memset(ctl.buf, 0, sizeof(ctl.buf));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * req.nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * req.nfds);
		memcpy(CMSG_DATA(c), xr[idx].fd, sizeof(int) * req.nfds);
	}
	if (sendmsg(sv[0], &mh, 0) != sizeof(req))
		tap_diag("sendmsg: %s", strerror(errno));

	vlib_unmap_buf(&vb);
	for (i = 0; i < NBUFS; i++)
		xbuf_release(&xr[i]);
	vlib_close(&d1);
	if (write(sv[0], "g", 1) != 1)
		tap_diag("write go: %s", strerror(errno));

	pfd.fd = sv[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, CHILD_SECS * 1000) != 1 ||
	    read(sv[0], &rep, sizeof(rep)) != sizeof(rep))
		snprintf(rep.msg, sizeof(rep.msg), "no answer from the child");
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	if (!tap_ok(rep.ok, "expbuf: %s", name))
		tap_diag("%s%s%s", why, why[0] ? "; " : "", rep.msg);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(sv[0]);
	if (vlib_open(&d1, node, 0))
		tap_diag("reopen %s: %s", node, strerror(errno));
}

static int write_param(const char *val)
{
	int fd = open(LIMIT_PARAM, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int read_param(char *out, size_t len)
{
	int fd = open(LIMIT_PARAM, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void restore_limit(void)
{
	if (limit_changed && !write_param(saved_limit))
		limit_changed = false;
}

static void mem_limit_checks(void)
{
	const char *n1 = "mem_limit bounds memory kept by exports";
	const char *n2 = "queue usable after ENOMEM once exports are closed";
	const size_t limit = (size_t)LIMIT_MB << 20;
	struct xbuf *kept;
	size_t kept_bytes = 0, req_bytes = 0, nkept = 0, i;
	char why[200] = "", now[32];
	int round, count, ret = 0, err = 0, b;
	bool ok;

	if (access(LIMIT_PARAM, F_OK)) {
		tap_skip("no " LIMIT_PARAM, "expbuf: %s", n1);
		tap_skip("no " LIMIT_PARAM, "expbuf: %s", n2);
		return;
	}
	kept = calloc(LIMIT_ROUNDS * NBUFS, sizeof(*kept));
	if (read_param(saved_limit, sizeof(saved_limit)) || !kept) {
		tap_ok(false, "expbuf: %s", n1);
		tap_ok(false, "expbuf: %s", n2);
		tap_diag("cannot read %s: %s", LIMIT_PARAM, strerror(errno));
		free(kept);
		return;
	}
	limit_changed = true;
	atexit(restore_limit);
	snprintf(now, sizeof(now), "%d", LIMIT_MB);
	if (write_param(now))
		tap_diag("write %s: %s", LIMIT_PARAM, strerror(errno));
	if (vlib_set_fmt(&d1, V4L2_PIX_FMT_YUYV, 640, 480, &fmt))
		tap_diag("S_FMT 640x480: %s", strerror(errno));

	for (round = 0; round < LIMIT_ROUNDS; round++) {
		size_t bytes = 0;

		count = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS, NULL);
		if (count < 0) {
			err = errno;
			break;
		}
		count = limit_count(count);
		for (b = 0; b < count; b++) {
			struct xbuf *x = &kept[nkept++];

			ret = xbuf_export(&d1, b, O_CLOEXEC | O_RDONLY, x, why,
					  sizeof(why));
			bytes += x->len[0] + x->len[1];
			if (ret)
				break;
		}
		vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
		if (ret)
			break;
		kept_bytes += bytes;
		req_bytes = bytes;
	}
	tap_diag("limit %zu bytes: REQBUFS %s after %d rounds keeping %zu bytes (request %zu)",
		 limit, tap_errname(err ? -1 : 0, err), round, kept_bytes,
		 req_bytes);
	ok = !ret && err == ENOMEM && kept_bytes <= limit + req_bytes &&
	     kept_bytes + 2 * req_bytes > limit;
	if (!tap_ok(ok, "expbuf: %s", n1))
		tap_diag("%s; expected ENOMEM from REQBUFS within one request of the limit",
			 ret ? why : "wrong outcome");

	for (i = 0; i < nkept; i++)
		xbuf_release(&kept[i]);
	free(kept);
	count = vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, NBUFS, NULL);
	err = errno;
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	ok = count >= 1 && !vlib_smoke_stream(&d1, why, sizeof(why));
	if (!tap_ok(ok, "expbuf: %s", n2))
		tap_diag("%s", count < 1 ? tap_errname(count, err) : why);
	restore_limit();
	if (limit_changed)
		tap_diag("could not restore %s to %s", LIMIT_PARAM,
			 saved_limit);
	if (vlib_set_fmt(&d1, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	uint32_t fourcc;

	page = sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);
	node = vlib_start(argc, argv, &d1, &d2);
	/*
	 * Every path of each function gives the same number of results:
	 * error_checks 11; export_capture 13, with cloexec_checks 4,
	 * file_checks 7, vmsplice_checks 2 and userptr_check 1;
	 * orphan_by_close 2, probe_twice 3, pass_to_child 1,
	 * mem_limit_checks 2.
	 */
	tap_plan(11 + 13 + 4 + 7 + 2 + 1 + 2 + 3 + 1 + 2);
	fourcc = d1.mplane ? V4L2_PIX_FMT_NV12M : V4L2_PIX_FMT_YUYV;
	vlib_streamoff(&d1);
	vlib_reqbufs(&d1, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_set_ctrl(&d1, V4L2_CID_HFLIP, 0);
	vlib_set_ctrl(&d1, V4L2_CID_TEST_PATTERN, 0);
	vlib_set_fps(&d1, 1, 60);
	if (vlib_set_fmt(&d1, fourcc, WIDTH, HEIGHT, &fmt))
		tap_diag("S_FMT: %s", strerror(errno));
	tap_diag("format %ux%u, %u plane(s)", fmt.width, fmt.height,
		 fmt.num_planes);

	error_checks();
	export_capture();
	orphan_by_close();
	probe_twice();
	pass_to_child();
	mem_limit_checks();
	vlib_set_fps(&d1, 1, 30);
	vlib_close(&d1);
	vlib_close(&d2);
	return tap_done();
}
