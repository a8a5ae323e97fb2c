// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile exporters and in-kernel importers, through the test-only module
 * vx-exporter.ko (/dev/vx-exporter, tests/exporter/), which the harness
 * loads before this test; a missing node fails. The node under test is a
 * capture node; its instance's output node is found by name.
 *
 *   mmap   an O_RDONLY export of a capture buffer, mapped through the
 *          module's dma_buf_mmap(), is never writable; an O_RDWR one is
 *   map2   the module maps one attachment of a capture export twice
 *   iomem  a dma-buf whose vmap gives I/O memory is refused at QBUF on the
 *          output and the capture queue, every vmap is undone, and the
 *          dma-bufs are released at close
 *   resv   a dma-buf whose vmap takes the reservation lock (6.1) queues
 *          within a bound and streams on the output queue
 *   stall  a dma-buf whose begin of CPU access waits for ever (a fence
 *          added after the driver found them signalled) comes back from
 *          the output queue as ERROR within the fence bound, and
 *          STREAMOFF returns
 *
 * VX_EXPORTER_ONLY=GROUP runs one group and skips the others.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "v4l2-lib.h"
#include "exporter/vx-exporter.h"

#define WIDTH		160
#define HEIGHT		120
#define NBUFS		2
#define OUT_FRAMES	4
/* how long the resv group may take before it counts as a hang */
#define RESV_TIMEOUT_S	20
#define FILL_BYTE	0x3c
#define RW_BYTE		0xc3

#define MMAP_CHECKS	5
#define IOMEM_CHECKS	5
#define RESV_CHECKS	3
#define STALL_CHECKS	3
/* the fence bound of vb2x is 1 s; the frame thread runs at 60 fps */
#define STALL_TIMEOUT_S	10

static struct vlib_dev cap, out;
static struct vlib_fmt cap_fmt, out_fmt;
static char output_path[64];
static int xfd = -1;
static const char *only;

static bool wanted(const char *group)
{
	return !only || !strcmp(only, group);
}

static void skip_n(unsigned int n, const char *reason, const char *group)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		tap_skip(reason, "exporters: %s check %u", group, i + 1);
}

static bool expect_ok(int ret, int err, const char *name)
{
	if (tap_ok(ret >= 0, "exporters: %s", name))
		return true;
	tap_diag("expected success, got %s", tap_errname(ret, err));
	return false;
}

static int get_stats(struct vx_exp_stats *s)
{
	memset(s, 0, sizeof(*s));
	return xioctl(xfd, VX_EXP_IOC_STATS, s);
}

static int create_dbuf(size_t size, unsigned int mode)
{
	struct vx_exp_create c;

	memset(&c, 0, sizeof(c));
	c.size = size;
	c.mode = mode;
	if (xioctl(xfd, VX_EXP_IOC_CREATE, &c))
		return -1;
	return c.fd;
}

static void close_if(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* One capture MMAP buffer, mapped through V4L2 and filled with @byte. */
static int capture_buffer(struct vlib_buf *vb, unsigned char byte)
{
	if (vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 1, NULL) < 1 ||
	    vlib_mmap_buf(&cap, 0, vb))
		return -1;
	memset(vb->start[0], byte, vb->length[0]);
	return 0;
}

/* Maps the module's node at @prot after handing it @dbuf_fd. */
static void *module_map(int dbuf_fd, size_t len, int prot)
{
	if (xioctl(xfd, VX_EXP_IOC_SET_MMAP, &dbuf_fd))
		return MAP_FAILED;
	return mmap(NULL, len, prot, MAP_SHARED, xfd, 0);
}

static void group_mmap(void)
{
	struct vlib_buf vb;
	unsigned char *m;
	size_t len;
	bool ok;
	int fd, none = -1, ret, err;

	memset(&vb, 0, sizeof(vb));
	if (capture_buffer(&vb, FILL_BYTE)) {
		tap_diag("capture MMAP buffer: %s", strerror(errno));
		skip_n(MMAP_CHECKS, "no capture buffer", "mmap");
		goto out;
	}
	len = vb.length[0];
	fd = vlib_expbuf(&cap, 0, 0, O_RDONLY | O_CLOEXEC);

	m = module_map(fd, len, PROT_READ | PROT_WRITE);
	err = errno;
	tap_errno(m == MAP_FAILED ? -1 : 0, err, EACCES,
		  "exporters: mmap: writable mapping of an O_RDONLY export through dma_buf_mmap()");
	if (m != MAP_FAILED)
		munmap(m, len);

	m = module_map(fd, len, PROT_READ);
	err = errno;
	ok = m != MAP_FAILED;
	if (ok) {
		size_t i;

		for (i = 0; i < len && m[i] == FILL_BYTE; i++)
			;
		ok = i == len;
		if (!ok)
			tap_diag("byte %zu reads 0x%02x, wrote 0x%02x", i, m[i],
				 FILL_BYTE);
	} else {
		tap_diag("mmap: %s", strerror(err));
	}
	tap_ok(ok, "exporters: mmap: read-only mapping of an O_RDONLY export reads the buffer");
	if (m != MAP_FAILED) {
		ret = mprotect(m, len, PROT_READ | PROT_WRITE);
		err = errno;
		tap_errno(ret, err, EACCES,
			  "exporters: mmap: mprotect() of it to writable");
		munmap(m, len);
	} else {
		tap_ok(false, "exporters: mmap: mprotect() of it to writable");
		tap_diag("no mapping to mprotect()");
	}
	close_if(fd);

	fd = vlib_expbuf(&cap, 0, 0, O_RDWR | O_CLOEXEC);
	m = module_map(fd, len, PROT_READ | PROT_WRITE);
	err = errno;
	expect_ok(m == MAP_FAILED ? -1 : 0, err,
		  "mmap: writable mapping of an O_RDWR export through dma_buf_mmap()");
	ok = false;
	if (m != MAP_FAILED) {
		m[0] = RW_BYTE;
		m[len - 1] = RW_BYTE;
		ok = ((unsigned char *)vb.start[0])[0] == RW_BYTE &&
		     ((unsigned char *)vb.start[0])[len - 1] == RW_BYTE;
		munmap(m, len);
	}
	tap_ok(ok, "exporters: mmap: a write through it reaches the buffer");
	close_if(fd);
	xioctl(xfd, VX_EXP_IOC_SET_MMAP, &none);
out:
	vlib_unmap_buf(&vb);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
}

static void group_map2(void)
{
	struct vlib_buf vb;
	int fd, ret, err;

	memset(&vb, 0, sizeof(vb));
	if (capture_buffer(&vb, FILL_BYTE))
		tap_diag("capture MMAP buffer: %s", strerror(errno));
	fd = vlib_expbuf(&cap, 0, 0, O_RDWR | O_CLOEXEC);
	ret = xioctl(xfd, VX_EXP_IOC_MAP_TWICE, &fd);
	err = errno;
	expect_ok(fd < 0 ? -1 : ret, fd < 0 ? EBADF : err,
		  "map2: a second map of a mapped attachment of a capture export");
	close_if(fd);
	vlib_unmap_buf(&vb);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
}

/*
 * QBUF of a dma-buf of ours whose vmap behaves as @mode, on @d, must fail
 * with EOPNOTSUPP and leave no vmap behind; with @closing, closing it all
 * must release the dma-buf.
 */
static void refused_vmap(struct vlib_dev *d, const struct vlib_fmt *f,
			 unsigned int mode, const char *group, bool closing)
{
	struct vx_exp_stats before, after;
	int fd, ret, err;

	get_stats(&before);
	fd = create_dbuf(f->sizeimage[0], mode);
	if (fd < 0)
		tap_diag("VX_EXP_IOC_CREATE: %s", strerror(errno));
	ret = -1;
	err = errno;
	if (fd >= 0 && vlib_reqbufs(d, V4L2_MEMORY_DMABUF, 1, NULL) >= 1) {
		ret = vlib_qbuf_dmabuf(d, 0, &fd, 1, NULL);
		err = errno;
	}
	tap_errno(ret, err, EOPNOTSUPP, "exporters: %s: %s QBUF", group,
		  d->output ? "output" : "capture");
	get_stats(&after);
	if (!tap_ok(after.vmaps - before.vmaps == after.vunmaps - before.vunmaps,
		    "exporters: %s: %s vmap and vunmap counts equal after QBUF",
		    group, d->output ? "output" : "capture"))
		tap_diag("%llu vmaps, %llu vunmaps",
			 (unsigned long long)(after.vmaps - before.vmaps),
			 (unsigned long long)(after.vunmaps - before.vunmaps));
	vlib_reqbufs(d, V4L2_MEMORY_DMABUF, 0, NULL);
	close_if(fd);
	if (!closing)
		return;
	get_stats(&after);
	if (!tap_ok(after.released - before.released == 1,
		    "exporters: %s: the dma-buf is released after REQBUFS 0 and close",
		    group))
		tap_diag("%llu released", (unsigned long long)(after.released -
							before.released));
}

static void group_iomem(void)
{
	refused_vmap(&out, &out_fmt, VX_EXP_VMAP_IOMEM, "iomem", false);
	refused_vmap(&cap, &cap_fmt, VX_EXP_VMAP_IOMEM, "iomem", true);
}

/*
 * The resv child: QBUF NBUFS dma-bufs on the output queue, stream
 * OUT_FRAMES frames. Writes how far it got to @wfd: 1 once QBUF returned,
 * then the number of frames dequeued.
 */
static void resv_child(int wfd, const int *fds)
{
	struct vlib_frame fr;
	unsigned char step;
	int i, n = 0;

	for (i = 0; i < NBUFS; i++)
		if (vlib_qbuf_dmabuf(&out, i, &fds[i], 1, NULL))
			_exit(10 + errno % 100);
	step = 1;
	if (write(wfd, &step, 1) != 1)
		_exit(3);
	if (vlib_streamon(&out))
		_exit(4);
	for (i = 0; i < OUT_FRAMES; i++) {
		if (vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr,
			       VLIB_DQBUF_TIMEOUT_MS) ||
		    fr.buf.index >= NBUFS)
			break;
		n++;
		if (vlib_qbuf_dmabuf(&out, fr.buf.index, &fds[fr.buf.index], 1,
				     NULL))
			break;
	}
	vlib_streamoff(&out);
	step = n;
	if (write(wfd, &step, 1) != 1)
		_exit(3);
	_exit(0);
}

/* Reads one byte of @rfd within @deadline; -1 on timeout or EOF. */
static int read_by(int rfd, time_t deadline)
{
	unsigned char b;

	while (time(NULL) < deadline) {
		fd_set set;
		struct timeval tv = { .tv_sec = 1 };

		FD_ZERO(&set);
		FD_SET(rfd, &set);
		if (select(rfd + 1, &set, NULL, NULL, &tv) > 0)
			return read(rfd, &b, 1) == 1 ? b : -1;
	}
	return -1;
}

/*
 * Waits for the child @pid once it @finished; otherwise kills it, as it
 * may be stuck in the kernel for good. Returns -1 once the child is gone,
 * or @pid while it is still there.
 */
static pid_t reap_child(pid_t pid, bool finished, int *status)
{
	if (pid <= 0)
		return pid;
	if (!finished) {
		kill(pid, SIGKILL);
		sleep(1);
		return waitpid(pid, status, WNOHANG) == pid ? -1 : pid;
	}
	waitpid(pid, status, 0);
	return -1;
}

/* Returns false when the child hung: the output queue is lost then. */
static bool group_resv(void)
{
	struct vx_exp_stats before, after;
	int fds[NBUFS], pfd[2], i, queued = -1, frames = -1, status = 0;
	time_t deadline;
	pid_t pid;

	get_stats(&before);
	for (i = 0; i < NBUFS; i++) {
		fds[i] = create_dbuf(out_fmt.sizeimage[0], VX_EXP_VMAP_RESV);
		if (fds[i] < 0)
			tap_diag("VX_EXP_IOC_CREATE: %s", strerror(errno));
	}
	if (vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, NBUFS, NULL) < NBUFS)
		tap_diag("output REQBUFS DMABUF: %s", strerror(errno));
	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		pfd[0] = -1;
		pfd[1] = -1;
	}
	fflush(stdout);
	pid = pfd[0] >= 0 ? fork() : -1;
	if (pid == 0) {
		close(pfd[0]);
		resv_child(pfd[1], fds);
	}
	close_if(pfd[1]);
	deadline = time(NULL) + RESV_TIMEOUT_S;
	if (pid > 0) {
		queued = read_by(pfd[0], deadline);
		if (queued == 1)
			frames = read_by(pfd[0], deadline);
	}
	close_if(pfd[0]);
	pid = reap_child(pid, queued == 1 && frames >= 0, &status);
	if (!tap_ok(queued == 1,
		    "exporters: resv: output QBUF of a dma-buf whose vmap takes the reservation lock returns within %d s",
		    RESV_TIMEOUT_S))
		tap_diag(queued < 0 && pid > 0 ?
			 "QBUF hung: the child is stuck in the kernel" :
			 "QBUF failed (child status 0x%x)", status);
	if (!tap_ok(frames == OUT_FRAMES,
		    "exporters: resv: streaming the output queue dequeues %d buffers",
		    OUT_FRAMES))
		tap_diag("%d dequeued", frames);
	if (pid > 0) {
		tap_ok(false, "exporters: resv: every vmap undone and the dma-bufs released");
		tap_diag("not checked: the output queue is held by the stuck child");
		return false;
	}
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	for (i = 0; i < NBUFS; i++)
		close_if(fds[i]);
	get_stats(&after);
	if (!tap_ok(after.vmaps - before.vmaps == after.vunmaps - before.vunmaps &&
		    after.released - before.released == NBUFS,
		    "exporters: resv: every vmap undone and the dma-bufs released"))
		tap_diag("%llu vmaps, %llu vunmaps, %llu released",
			 (unsigned long long)(after.vmaps - before.vmaps),
			 (unsigned long long)(after.vunmaps - before.vunmaps),
			 (unsigned long long)(after.released - before.released));
	return true;
}

/*
 * The stall child: QBUF the stalling dma-buf @fd on the output queue,
 * STREAMON, DQBUF. Writes to @wfd: 1 for a buffer dequeued with ERROR, 2
 * for one dequeued without, 3 for none; then 1 once STREAMOFF returned.
 */
static void stall_child(int wfd, int fd)
{
	struct vlib_frame fr;
	unsigned char step = 3;

	if (vlib_qbuf_dmabuf(&out, 0, &fd, 1, NULL) || vlib_streamon(&out))
		_exit(10 + errno % 100);
	if (!vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr, STALL_TIMEOUT_S * 1000))
		step = (fr.buf.flags & V4L2_BUF_FLAG_ERROR) ? 1 : 2;
	if (write(wfd, &step, 1) != 1)
		_exit(3);
	vlib_streamoff(&out);
	step = 1;
	if (write(wfd, &step, 1) != 1)
		_exit(3);
	_exit(0);
}

/* Returns false when the child hung: the output queue is lost then. */
static bool group_stall(void)
{
	struct vx_exp_stats before, after;
	int fd, pfd[2], dq = -1, off = -1, status = 0;
	time_t deadline;
	pid_t pid = -1;

	get_stats(&before);
	fd = create_dbuf(out_fmt.sizeimage[0], VX_EXP_CPU_STALL);
	if (fd < 0)
		tap_diag("VX_EXP_IOC_CREATE: %s", strerror(errno));
	if (vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 1, NULL) < 1)
		tap_diag("output REQBUFS DMABUF: %s", strerror(errno));
	if (pipe(pfd)) {
		tap_diag("pipe: %s", strerror(errno));
		pfd[0] = -1;
		pfd[1] = -1;
	}
	fflush(stdout);
	if (pfd[0] >= 0 && fd >= 0)
		pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		stall_child(pfd[1], fd);
	}
	close_if(pfd[1]);
	deadline = time(NULL) + 2 * STALL_TIMEOUT_S;
	if (pid > 0) {
		dq = read_by(pfd[0], deadline);
		if (dq > 0)
			off = read_by(pfd[0], deadline);
	}
	close_if(pfd[0]);
	pid = reap_child(pid, off == 1, &status);
	if (!tap_ok(dq == 1,
		    "exporters: stall: output DQBUF returns the buffer as ERROR within %d s when CPU access never begins",
		    STALL_TIMEOUT_S))
		tap_diag(dq == 2 ? "dequeued without ERROR" :
			 dq == 3 ? "no buffer dequeued" :
			 "the child got no answer (status 0x%x)", status);
	if (!tap_ok(off == 1, "exporters: stall: STREAMOFF returns"))
		tap_diag("STREAMOFF %s", pid > 0 ? "hung" : "did not run");
	get_stats(&after);
	if (!tap_ok(after.cpu_stalls > before.cpu_stalls &&
		    after.cpu_stalls - before.cpu_stalls ==
		    after.cpu_stalls_ended - before.cpu_stalls_ended,
		    "exporters: stall: the exporter's wait was reached, and every one ended"))
		tap_diag("%llu waits begun, %llu ended",
			 (unsigned long long)(after.cpu_stalls - before.cpu_stalls),
			 (unsigned long long)(after.cpu_stalls_ended -
					      before.cpu_stalls_ended));
	if (pid > 0)
		return false;
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	close_if(fd);
	return true;
}

int main(int argc, char **argv)
{
	bool peers, resv_done = true;
	const char *node;

	out.fd = -1;
	only = getenv("VX_EXPORTER_ONLY");
	node = vlib_start(argc, argv, &cap, NULL);
	/*
	 * node 1, peers 1, mmap MMAP_CHECKS, map2 1, iomem IOMEM_CHECKS,
	 * resv RESV_CHECKS, stall STALL_CHECKS.
	 */
	tap_plan(2 + MMAP_CHECKS + 1 + IOMEM_CHECKS + RESV_CHECKS +
		 STALL_CHECKS);
	xfd = open(VX_EXP_NODE, O_RDWR | O_CLOEXEC);
	if (!tap_ok(xfd >= 0, "exporters: %s opens", VX_EXP_NODE))
		tap_diag("%s: %s (is vx-exporter.ko loaded?)", VX_EXP_NODE,
			 strerror(errno));
	peers = !vlib_find_output(node, output_path, sizeof(output_path)) &&
		!vlib_open(&out, output_path, 0);
	if (!tap_ok(peers, "exporters: the instance's output node opens"))
		tap_diag("output node of %s: %s", node, strerror(errno));
	vlib_streamoff(&cap);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
	if (vlib_set_fmt(&cap, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &cap_fmt))
		tap_diag("capture S_FMT: %s", strerror(errno));
	if (peers) {
		vlib_streamoff(&out);
		vlib_reqbufs(&out, V4L2_MEMORY_MMAP, 0, NULL);
		if (vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT,
				 &out_fmt))
			tap_diag("output S_FMT: %s", strerror(errno));
		vlib_set_fps(&out, 1, 60);
	}

	if (xfd < 0) {
		skip_n(MMAP_CHECKS + 1 + IOMEM_CHECKS + RESV_CHECKS +
		       STALL_CHECKS, "no " VX_EXP_NODE, "all");
		goto done;
	}
	if (wanted("mmap"))
		group_mmap();
	else
		skip_n(MMAP_CHECKS, "VX_EXPORTER_ONLY", "mmap");
	if (wanted("map2"))
		group_map2();
	else
		skip_n(1, "VX_EXPORTER_ONLY", "map2");
	if (peers && wanted("iomem"))
		group_iomem();
	else
		skip_n(IOMEM_CHECKS, peers ? "VX_EXPORTER_ONLY" : "no output node",
		       "iomem");
	if (peers && wanted("resv"))
		resv_done = group_resv();
	else
		skip_n(RESV_CHECKS, peers ? "VX_EXPORTER_ONLY" : "no output node",
		       "resv");
	if (peers && resv_done && wanted("stall"))
		resv_done = group_stall();
	else
		skip_n(STALL_CHECKS, !peers ? "no output node" :
		       resv_done ? "VX_EXPORTER_ONLY" : "the resv child holds the output queue",
		       "stall");
done:
	if (!resv_done) {
		/* closing the output node would wait on the stuck child */
		fflush(stdout);
		_exit(tap_done());
	}
	if (peers)
		vlib_set_fps(&out, 1, 30);
	close_if(xfd);
	vlib_close(&out);
	vlib_close(&cap);
	return tap_done();
}
