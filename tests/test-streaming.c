// SPDX-License-Identifier: GPL-2.0-only
/*
 * Streaming tests: MMAP and USERPTR capture, buffer metadata, non-blocking
 * DQBUF, poll and epoll, restart, and the frame interval.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "v4l2-lib.h"

#define NFRAMES		8
#define NBUFS		4
#define WIDTH		320
#define HEIGHT		240

static struct vlib_dev dev;

struct stream_ctx {
	const char *tag;
	uint32_t memory;
	struct vlib_fmt fmt;
	struct vlib_buf bufs[VLIB_MAX_BUFS];
	bool heap[VLIB_MAX_BUFS];
	double qtime[VLIB_MAX_BUFS];
	int count;
};

static const char *mem_name(uint32_t memory)
{
	return memory == V4L2_MEMORY_MMAP ? "mmap" : "userptr";
}

static size_t page_round(size_t n)
{
	size_t pg = sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

/* User memory: even buffers from the heap, odd ones from anonymous mmap. */
static int alloc_user(struct stream_ctx *s, int i)
{
	struct vlib_buf *b = &s->bufs[i];
	unsigned int p;

	memset(b, 0, sizeof(*b));
	s->heap[i] = !(i & 1);
	b->num_planes = s->fmt.num_planes;
	for (p = 0; p < s->fmt.num_planes; p++) {
		size_t len = page_round(s->fmt.sizeimage[p]);
		void *mem;

		if (s->heap[i]) {
			if (posix_memalign(&mem, sysconf(_SC_PAGESIZE), len))
				return -1;
		} else {
			mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED)
				return -1;
		}
		memset(mem, 0x5a, len);
		b->start[p] = mem;
		b->length[p] = len;
	}
	return 0;
}

static void free_bufs(struct stream_ctx *s)
{
	unsigned int p;
	int i;

	for (i = 0; i < VLIB_MAX_BUFS; i++) {
		struct vlib_buf *b = &s->bufs[i];

		if (b->mmapped) {
			vlib_unmap_buf(b);
			continue;
		}
		for (p = 0; p < b->num_planes; p++) {
			if (!b->start[p])
				continue;
			if (s->heap[i])
				free(b->start[p]);
			else
				munmap(b->start[p], b->length[p]);
		}
		memset(b, 0, sizeof(*b));
	}
}

static int queue(struct stream_ctx *s, int i)
{
	s->qtime[i] = vlib_now_sec();
	if (s->memory == V4L2_MEMORY_MMAP)
		return vlib_qbuf_mmap(&dev, i);
	return vlib_qbuf_userptr(&dev, i, &s->bufs[i]);
}

static int setup(struct stream_ctx *s)
{
	int i;
	bool ok = true;

	s->count = vlib_reqbufs(&dev, s->memory, NBUFS, NULL);
	if (!tap_ok(s->count >= 1 && s->count <= VLIB_MAX_BUFS,
		    "streaming: %s reqbufs", s->tag)) {
		tap_diag("REQBUFS(%s, %d) gave %d (%s)", mem_name(s->memory),
			 NBUFS, s->count, s->count < 0 ? strerror(errno) : "");
		return -1;
	}
	for (i = 0; i < s->count && ok; i++) {
		if (s->memory == V4L2_MEMORY_MMAP) {
			if (vlib_mmap_buf(&dev, i, &s->bufs[i])) {
				tap_diag("mmap buffer %d: %s", i,
					 strerror(errno));
				ok = false;
			}
		} else if (alloc_user(s, i)) {
			tap_diag("allocating user memory %d failed", i);
			ok = false;
		}
		if (ok && queue(s, i)) {
			tap_diag("QBUF %d: %s", i, strerror(errno));
			ok = false;
		}
	}
	if (!tap_ok(ok, "streaming: %s map and queue all buffers", s->tag))
		return -1;
	if (!tap_ok(!vlib_streamon(&dev), "streaming: %s streamon", s->tag)) {
		tap_diag("STREAMON: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct frame_checks {
	char dq[160];
	char seq[160];
	char ts[160];
	char flags[160];
	char bytes[160];
	char field[160];
	char mem[160];
	char content[512];
	uint32_t first_seq;
};

/* Keeps the first failure of a kind: later ones leave @buf as it is. */
static __printf(3, 4) void fail_once(char *buf, size_t len,
				     const char *fmt, ...)
{
	va_list ap;

	if (buf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void check_frame(struct stream_ctx *s, struct vlib_frame *fr,
			struct frame_checks *c, double now, int n,
			uint32_t *last_seq, double *last_ts)
{
	uint32_t tsflags = fr->buf.flags & (V4L2_BUF_FLAG_TIMESTAMP_MASK |
					    V4L2_BUF_FLAG_TSTAMP_SRC_MASK);
	double ts = vlib_ts_to_sec(&fr->buf.timestamp);
	struct vlib_pattern pat = { .sequence = fr->buf.sequence };
	void *planes[VLIB_MAX_PLANES];
	char msg[400];
	unsigned int p;

	if (n == 0)
		c->first_seq = fr->buf.sequence;
	else if (fr->buf.sequence <= *last_seq)
		fail_once(c->seq, sizeof(c->seq), "frame %d: sequence %u after %u", n,
			  fr->buf.sequence, *last_seq);
	if (n > 0 && ts <= *last_ts)
		fail_once(c->ts, sizeof(c->ts), "frame %d: timestamp %.6f after %.6f", n, ts,
			  *last_ts);
	/*
	 * The end of frame comes after QBUF (less the slack of one frame
	 * period at most) and before DQBUF returned.
	 */
	if (fr->buf.index < VLIB_MAX_BUFS &&
	    (ts > now + 0.001 || ts < s->qtime[fr->buf.index] - 0.1))
		fail_once(c->ts, sizeof(c->ts),
			  "frame %d: timestamp %.6f, QBUF at %.6f, DQBUF at %.6f (CLOCK_MONOTONIC)",
			  n, ts, s->qtime[fr->buf.index], now);
	*last_seq = fr->buf.sequence;
	*last_ts = ts;
	if (tsflags != (V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			V4L2_BUF_FLAG_TSTAMP_SRC_EOF))
		fail_once(c->flags, sizeof(c->flags), "frame %d: timestamp flags 0x%x", n,
			  tsflags);
	if (fr->buf.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE |
			     V4L2_BUF_FLAG_ERROR))
		fail_once(c->flags, sizeof(c->flags), "frame %d: flags 0x%x", n, fr->buf.flags);
	if (s->memory == V4L2_MEMORY_MMAP &&
	    !(fr->buf.flags & V4L2_BUF_FLAG_MAPPED))
		fail_once(c->flags, sizeof(c->flags), "frame %d: MAPPED missing, flags 0x%x", n,
			  fr->buf.flags);
	if (dev.mplane && fr->buf.length != s->fmt.num_planes)
		fail_once(c->bytes, sizeof(c->bytes), "frame %d: %u planes, format has %u", n,
			  fr->buf.length, s->fmt.num_planes);
	for (p = 0; p < s->fmt.num_planes; p++)
		if (fr->bytesused[p] != s->fmt.sizeimage[p])
			fail_once(c->bytes, sizeof(c->bytes),
				  "frame %d plane %u: bytesused %u sizeimage %u",
				  n, p, fr->bytesused[p], s->fmt.sizeimage[p]);
	if (fr->buf.field != V4L2_FIELD_NONE)
		fail_once(c->field, sizeof(c->field), "frame %d: field %u", n, fr->buf.field);
	if (fr->buf.index >= (uint32_t)s->count ||
	    fr->buf.memory != s->memory || fr->buf.type != dev.type) {
		fail_once(c->mem, sizeof(c->mem), "frame %d: index %u memory %u type %u", n,
			  fr->buf.index, fr->buf.memory, fr->buf.type);
		return;
	}
	if (s->memory == V4L2_MEMORY_USERPTR) {
		for (p = 0; p < s->fmt.num_planes; p++)
			if (fr->userptr[p] !=
			    (unsigned long)s->bufs[fr->buf.index].start[p])
				fail_once(c->mem, sizeof(c->mem),
					  "frame %d plane %u: userptr 0x%lx, queued %p",
					  n, p, fr->userptr[p],
					  s->bufs[fr->buf.index].start[p]);
	}
	for (p = 0; p < VLIB_MAX_PLANES; p++)
		planes[p] = s->bufs[fr->buf.index].start[p];
	if (!pattern_check(&s->fmt, &pat, planes, msg, sizeof(msg)))
		fail_once(c->content, sizeof(c->content), "frame %d: %s", n, msg);
}

static void report(const char *diag, const char *tag, const char *what)
{
	if (!tap_ok(!diag[0], "streaming: %s %s", tag, what))
		tap_diag("%s", diag);
}

static void capture(struct stream_ctx *s, int nframes, const char *what)
{
	struct frame_checks c;
	struct vlib_frame fr;
	uint32_t last_seq = 0;
	double last_ts = 0;
	int n;

	memset(&c, 0, sizeof(c));
	for (n = 0; n < nframes; n++) {
		if (vlib_dqbuf(&dev, s->memory, &fr, VLIB_DQBUF_TIMEOUT_MS)) {
			fail_once(c.dq, sizeof(c.dq), "DQBUF frame %d: %s", n,
				  strerror(errno));
			break;
		}
		check_frame(s, &fr, &c, vlib_now_sec(), n, &last_seq,
			    &last_ts);
		if (queue(s, fr.buf.index)) {
			fail_once(c.dq, sizeof(c.dq), "re-QBUF %u: %s", fr.buf.index,
				  strerror(errno));
			break;
		}
	}
	if (!tap_ok(n == nframes, "streaming: %s %s dqbuf %d frames", s->tag,
		    what, nframes)) {
		tap_diag("%s", c.dq);
		return;
	}
	if (!tap_ok(c.first_seq == 0, "streaming: %s %s first sequence 0",
		    s->tag, what))
		tap_diag("first sequence %u", c.first_seq);
	if (strcmp(what, "start"))
		return;
	report(c.seq, s->tag, "sequence increasing");
	report(c.ts, s->tag, "timestamps monotonic and current");
	report(c.flags, s->tag, "buffer flags");
	report(c.bytes, s->tag, "bytesused == sizeimage");
	report(c.field, s->tag, "field none");
	report(c.mem, s->tag, "index memory type");
	report(c.content, s->tag, "frame content");
}

/* Non-blocking DQBUF, poll and epoll; run while streaming. */
static void wakeups(struct stream_ctx *s)
{
	int flags = fcntl(dev.fd, F_GETFL);
	struct pollfd pfd = { .fd = dev.fd, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	bool held[VLIB_MAX_BUFS] = { false };
	struct vlib_frame fr;
	int nheld = 0, tries, ret, epfd, i;
	uint32_t max_seq = 0;

	fcntl(dev.fd, F_SETFL, flags | O_NONBLOCK);
	for (tries = 0; tries < 300 && nheld < s->count; tries++) {
		if (vlib_dqbuf(&dev, s->memory, &fr, -1)) {
			usleep(10000);
			continue;
		}
		held[fr.buf.index] = true;
		nheld++;
		if (fr.buf.sequence > max_seq)
			max_seq = fr.buf.sequence;
	}
	/* Hold every buffer for about six frame periods at 1/30. */
	usleep(200000);
	ret = vlib_dqbuf(&dev, s->memory, &fr, -1);
	if (!tap_ok(nheld == s->count && ret == -1 && errno == EAGAIN,
		    "streaming: nonblock dqbuf EAGAIN when nothing ready"))
		tap_diag("held %d of %d, DQBUF ret %d errno %s", nheld,
			 s->count, ret, ret ? strerror(errno) : "none");

	queue(s, 0);
	held[0] = false;
	for (tries = 0; tries < 300; tries++) {
		ret = vlib_dqbuf(&dev, s->memory, &fr, -1);
		if (!ret || errno != EAGAIN)
			break;
		usleep(10000);
	}
	if (!tap_ok(!ret && fr.buf.index == 0,
		    "streaming: nonblock dqbuf frame later")) {
		tap_diag("DQBUF: %s after %d tries",
			 ret ? strerror(errno) : "wrong index", tries);
	} else {
		held[0] = true;
		if (!tap_ok(fr.buf.sequence >= max_seq + 3,
			    "streaming: sequence skips periods without buffers"))
			tap_diag("sequence %u after %u and 200 ms without buffers",
				 fr.buf.sequence, max_seq);
	}

	queue(s, 0);
	held[0] = false;
	do {
		ret = poll(&pfd, 1, VLIB_DQBUF_TIMEOUT_MS);
	} while (ret == -1 && errno == EINTR);
	if (!tap_ok(ret == 1 && (pfd.revents & POLLIN) &&
		    !(pfd.revents & POLLERR),
		    "streaming: poll wakes with POLLIN"))
		tap_diag("poll returned %d revents 0x%x", ret, pfd.revents);
	ret = vlib_dqbuf(&dev, s->memory, &fr, -1);
	if (!tap_ok(!ret, "streaming: nonblock dqbuf after poll"))
		tap_diag("DQBUF: %s", strerror(errno));
	else
		held[fr.buf.index] = true;

	epfd = epoll_create1(0);
	ev.data.fd = dev.fd;
	ret = epoll_ctl(epfd, EPOLL_CTL_ADD, dev.fd, &ev);
	if (!tap_ok(!ret, "streaming: epoll_ctl add"))
		tap_diag("epoll_ctl: %s", strerror(errno));
	queue(s, 0);
	held[0] = false;
	memset(&out, 0, sizeof(out));
	do {
		ret = epoll_wait(epfd, &out, 1, VLIB_DQBUF_TIMEOUT_MS);
	} while (ret == -1 && errno == EINTR);
	if (!tap_ok(ret == 1 && (out.events & EPOLLIN),
		    "streaming: epoll wakes with EPOLLIN"))
		tap_diag("epoll_wait returned %d events 0x%x", ret,
			 out.events);
	ret = vlib_dqbuf(&dev, s->memory, &fr, -1);
	if (!tap_ok(!ret, "streaming: nonblock dqbuf after epoll"))
		tap_diag("DQBUF: %s", strerror(errno));
	else
		held[fr.buf.index] = true;
	close(epfd);

	fcntl(dev.fd, F_SETFL, flags);
	for (i = 0; i < s->count; i++)
		if (held[i] && queue(s, i))
			tap_diag("re-QBUF %d: %s", i, strerror(errno));
}

static void restart(struct stream_ctx *s)
{
	struct vlib_frame fr;
	bool ok = true;
	int i;

	if (!tap_ok(!vlib_streamoff(&dev), "streaming: %s streamoff", s->tag))
		tap_diag("STREAMOFF: %s", strerror(errno));
	for (i = 0; i < s->count; i++) {
		vlib_init_buf(&dev, &fr.buf, fr.planes, s->memory, i);
		if (xioctl(dev.fd, VIDIOC_QUERYBUF, &fr.buf) ||
		    (fr.buf.flags & (V4L2_BUF_FLAG_QUEUED |
				     V4L2_BUF_FLAG_DONE))) {
			tap_diag("buffer %d: QUERYBUF %s flags 0x%x", i,
				 strerror(errno), fr.buf.flags);
			ok = false;
		}
	}
	tap_ok(ok, "streaming: %s streamoff dequeues all buffers", s->tag);
	ok = true;
	for (i = 0; i < s->count && ok; i++) {
		if (queue(s, i)) {
			tap_diag("QBUF %d: %s", i, strerror(errno));
			ok = false;
		}
	}
	if (ok && vlib_streamon(&dev)) {
		tap_diag("STREAMON: %s", strerror(errno));
		ok = false;
	}
	if (!tap_ok(ok, "streaming: %s streamon after streamoff", s->tag))
		return;
	capture(s, 3, "restart");
	if (!tap_ok(!vlib_streamoff(&dev), "streaming: %s second streamoff",
		    s->tag))
		tap_diag("STREAMOFF: %s", strerror(errno));
}

static void run(uint32_t memory, uint32_t fourcc, bool with_wakeups)
{
	struct stream_ctx s;
	char tag[32], fcc[5];
	int ret;

	memset(&s, 0, sizeof(s));
	s.memory = memory;
	snprintf(tag, sizeof(tag), "%s %s", mem_name(memory),
		 vlib_fourcc_str(fourcc, fcc));
	s.tag = tag;
	if (memory == V4L2_MEMORY_USERPTR && !vlib_has_userptr(&dev)) {
		tap_skip("no USERPTR on this queue", "streaming: %s", tag);
		return;
	}
	if (!tap_ok(!vlib_set_fmt(&dev, fourcc, WIDTH, HEIGHT, &s.fmt) &&
		    s.fmt.fourcc == fourcc,
		    "streaming: %s s_fmt", tag)) {
		tap_diag("S_FMT: %s", strerror(errno));
		return;
	}
	if (!setup(&s)) {
		capture(&s, NFRAMES, "start");
		if (with_wakeups)
			wakeups(&s);
		restart(&s);
	}
	vlib_streamoff(&dev);
	free_bufs(&s);
	ret = vlib_reqbufs(&dev, memory, 0, NULL);
	if (!tap_ok(ret == 0, "streaming: %s reqbufs 0 after streaming", tag))
		tap_diag("REQBUFS(0): %d %s", ret, strerror(errno));
}

/* Seconds per sequence step at a frame interval of 1/@den. */
static double measure_period(uint32_t den, double *wall)
{
	struct v4l2_streamparm parm;
	struct vlib_buf bufs[NBUFS];
	struct vlib_frame fr;
	double t0 = 0, t1 = 0, w0 = 0;
	uint32_t s0 = 0, s1 = 0;
	double period = -1;
	int i, n, count;

	memset(bufs, 0, sizeof(bufs));
	vlib_set_fps(&dev, 1, den);
	memset(&parm, 0, sizeof(parm));
	parm.type = dev.type;
	if (!tap_ok(!xioctl(dev.fd, VIDIOC_G_PARM, &parm) &&
		    (parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) &&
		    parm.parm.capture.timeperframe.numerator == 1 &&
		    parm.parm.capture.timeperframe.denominator == den,
		    "streaming: s_parm 1/%u", den))
		tap_diag("G_PARM: %s, capability 0x%x, %u/%u", strerror(errno),
			 parm.parm.capture.capability,
			 parm.parm.capture.timeperframe.numerator,
			 parm.parm.capture.timeperframe.denominator);
	count = vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, NBUFS, NULL);
	if (count < 1)
		return -1;
	if (count > NBUFS)
		count = NBUFS;
	for (i = 0; i < count; i++)
		if (vlib_mmap_buf(&dev, i, &bufs[i]) || vlib_qbuf_mmap(&dev, i))
			goto out;
	if (vlib_streamon(&dev))
		goto out;
	for (n = 0; n < 6; n++) {
		if (vlib_dqbuf(&dev, V4L2_MEMORY_MMAP, &fr, 3000))
			goto out;
		if (n == 0) {
			t0 = vlib_ts_to_sec(&fr.buf.timestamp);
			s0 = fr.buf.sequence;
			w0 = vlib_now_sec();
		}
		t1 = vlib_ts_to_sec(&fr.buf.timestamp);
		s1 = fr.buf.sequence;
		vlib_qbuf_mmap(&dev, fr.buf.index);
	}
	*wall = vlib_now_sec() - w0;
	if (s1 > s0)
		period = (t1 - t0) / (s1 - s0);
out:
	vlib_streamoff(&dev);
	for (i = 0; i < NBUFS; i++)
		vlib_unmap_buf(&bufs[i]);
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
	return period;
}

static void framerate(void)
{
	double w30 = 0, w10 = 0, p30, p10;

	vlib_set_fmt(&dev, V4L2_PIX_FMT_YUYV, 160, 120, NULL);
	p30 = measure_period(30, &w30);
	p10 = measure_period(10, &w10);
	tap_diag("period at 1/30: %.4f s (5 frames %.3f s), at 1/10: %.4f s (5 frames %.3f s)",
		 p30, w30, p10, w10);
	tap_ok(p30 > 0 && p10 > 0 && p10 > p30 && w10 > w30,
	       "streaming: 1/10 runs slower than 1/30");
	vlib_set_fps(&dev, 1, 30);
}

/*
 * The number of results, known before the first: a run has 20 (s_fmt,
 * setup 3, capture 9, restart 6 with its capture 2, reqbufs 0), 8 more
 * with wakeups, 1 when the queue takes no USERPTR memory; framerate has 3.
 */
static unsigned int planned(void)
{
	unsigned int run_n = 20;
	unsigned int user_n = vlib_has_userptr(&dev) ? run_n : 1;
	unsigned int n = run_n + 8 + user_n;

	if (dev.mplane)
		n += run_n + user_n;
	return n + 3;
}

int main(int argc, char **argv)
{
	vlib_start(argc, argv, &dev, NULL);
	tap_plan(planned());
	vlib_reqbufs(&dev, V4L2_MEMORY_MMAP, 0, NULL);
	vlib_set_fps(&dev, 1, 30);
	run(V4L2_MEMORY_MMAP, V4L2_PIX_FMT_YUYV, true);
	run(V4L2_MEMORY_USERPTR, V4L2_PIX_FMT_YUYV, false);
	if (dev.mplane) {
		run(V4L2_MEMORY_MMAP, V4L2_PIX_FMT_NV12M, false);
		run(V4L2_MEMORY_USERPTR, V4L2_PIX_FMT_NV12M, false);
	}
	framerate();
	vlib_close(&dev);
	return tap_done();
}
