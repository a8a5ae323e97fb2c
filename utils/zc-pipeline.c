// SPDX-License-Identifier: GPL-2.0-only
/*
 * zc-pipeline: stream frames from a V4L2 capture node to a V4L2 output
 * node and measure what it costs.
 *
 * usage: zc-pipeline -c /dev/videoN -o /dev/videoM [-m dmabuf|copy]
 *                    [-f fourcc] [-s WxH] [-r fps] [-n frames] [-w warmup]
 *
 * Both nodes get the same single-plane format and frame interval.
 * dmabuf: the capture buffers (MMAP) are exported with VIDIOC_EXPBUF and
 * output buffer i is capture buffer i's dma-buf (V4L2_MEMORY_DMABUF), so a
 * captured frame goes to the output without a copy; the capture buffer is
 * queued again when the output returns it.
 * copy: MMAP buffers on both nodes, each frame copied with memcpy().
 *
 * After the warm-up frames it measures the next frames and prints one
 * "result key=value ..." line and a summary: process CPU time per frame
 * (/proc/self/schedstat, or getrusage() without it), whole-system CPU time
 * per frame (sum of the per-CPU run times in /proc/schedstat, kernel
 * threads included), capture sequence gaps (dropped frames), output
 * buffers consumed, and the median time of the QBUF, DQBUF and EXPBUF
 * ioctls (CLOCK_MONOTONIC read around each call).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/videodev2.h>

#define NUM_BUFS	6
#define MAX_BUFS	32
#define POLL_MS		5000

struct node {
	const char *path;
	int fd;
	__u32 type;
	bool mplane;
	bool output;
	__u32 memory;
	unsigned int count;
	void *mem[MAX_BUFS];
	size_t len[MAX_BUFS];
	int dmabuf[MAX_BUFS];
};

struct samples {
	double *us;
	unsigned int n;
	unsigned int size;
};

struct pipeline {
	struct node cap;
	struct node out;
	bool copy;
	__u32 fourcc;
	__u32 width;
	__u32 height;
	__u32 sizeimage;
	struct v4l2_fract interval;
	unsigned int fps;
	unsigned int frames;
	unsigned int warmup;

	/* copy mode: output buffers not queued */
	unsigned int free_out[MAX_BUFS];
	unsigned int n_free;

	bool measuring;
	unsigned int cap_queued;
	unsigned int captured;
	__u32 last_seq;
	unsigned int gaps;
	unsigned int out_frames;
	unsigned int errors;

	struct samples cap_qbuf;
	struct samples cap_dqbuf;
	struct samples out_qbuf;
	struct samples out_dqbuf;
	struct samples expbuf;
};

/* CPU time counters at one moment, in ns; sys_ns < 0 when unknown. */
struct cpu_mark {
	long long wall_ns;
	long long proc_ns;
	long long sys_ns;
};

static const char *proc_cpu_src = "schedstat";

static void die(const char *what)
{
	fprintf(stderr, "zc-pipeline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *msg)
{
	fprintf(stderr, "zc-pipeline: %s\n", msg);
	exit(1);
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: zc-pipeline -c /dev/videoN -o /dev/videoM [-m dmabuf|copy] [-f fourcc]\n"
		"                   [-s WxH] [-r fps] [-n frames] [-w warmup]\n");
	exit(2);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret;
}

static void samples_init(struct samples *s, unsigned int size)
{
	s->us = calloc(size, sizeof(*s->us));
	if (!s->us)
		die("calloc");
	s->size = size;
	s->n = 0;
}

/* An ioctl; if it succeeds its duration is added to @s unless NULL. */
static int timed_ioctl(struct samples *s, int fd, unsigned long req,
		       void *arg)
{
	long long start = now_ns();
	int ret = xioctl(fd, req, arg);

	if (!ret && s && s->n < s->size)
		s->us[s->n++] = (now_ns() - start) / 1000.0;
	return ret;
}

static struct samples *when_measuring(const struct pipeline *p,
				      struct samples *s)
{
	return p->measuring ? s : NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of the samples of @a and @b together; negative if none. */
static double median(const struct samples *a, const struct samples *b)
{
	unsigned int n = a->n + (b ? b->n : 0);
	double *all, mid;

	if (!n)
		return -1;
	all = malloc(n * sizeof(*all));
	if (!all)
		die("malloc");
	memcpy(all, a->us, a->n * sizeof(*all));
	if (b)
		memcpy(all + a->n, b->us, b->n * sizeof(*all));
	qsort(all, n, sizeof(*all), cmp_double);
	mid = n % 2 ? all[n / 2] : (all[n / 2 - 1] + all[n / 2]) / 2;
	free(all);
	return mid;
}

/* Process CPU time: the first field of /proc/self/schedstat (ns). */
static long long proc_cpu_ns(void)
{
	unsigned long long ns;
	struct rusage ru;
	FILE *fp;
	int got = 0;

	fp = fopen("/proc/self/schedstat", "r");
	if (fp) {
		got = fscanf(fp, "%llu", &ns);
		fclose(fp);
	}
	if (got == 1)
		return ns;
	proc_cpu_src = "rusage";
	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((long long)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/*
 * Whole-system CPU time: the sum over the "cpuN" lines of /proc/schedstat
 * of field 7, the time tasks other than idle ran on that CPU (ns).
 */
static long long sys_cpu_ns(void)
{
	unsigned long long field[7];
	char line[512];
	long long sum = 0;
	bool found = false;
	FILE *fp;

	fp = fopen("/proc/schedstat", "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line, "%*s %llu %llu %llu %llu %llu %llu %llu",
			   &field[0], &field[1], &field[2], &field[3],
			   &field[4], &field[5], &field[6]) != 7)
			continue;
		sum += field[6];
		found = true;
	}
	fclose(fp);
	return found ? sum : -1;
}

static void cpu_mark(struct cpu_mark *m)
{
	m->sys_ns = sys_cpu_ns();
	m->proc_ns = proc_cpu_ns();
	m->wall_ns = now_ns();
}

static void open_node(struct node *n, bool output)
{
	struct v4l2_capability cap;
	__u32 caps;

	n->output = output;
	n->fd = open(n->path, O_RDWR | O_NONBLOCK);
	if (n->fd < 0)
		die(n->path);
	if (xioctl(n->fd, VIDIOC_QUERYCAP, &cap))
		die("VIDIOC_QUERYCAP");
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps :
							 cap.capabilities;
	if (!(caps & V4L2_CAP_STREAMING)) {
		fprintf(stderr, "zc-pipeline: %s cannot stream\n", n->path);
		exit(1);
	}
	if (output && (caps & V4L2_CAP_VIDEO_OUTPUT)) {
		n->type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	} else if (output && (caps & V4L2_CAP_VIDEO_OUTPUT_MPLANE)) {
		n->type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
		n->mplane = true;
	} else if (!output && (caps & V4L2_CAP_VIDEO_CAPTURE)) {
		n->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	} else if (!output && (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE)) {
		n->type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE;
		n->mplane = true;
	} else {
		fprintf(stderr, "zc-pipeline: %s is no video %s node\n",
			n->path, output ? "output" : "capture");
		exit(1);
	}
}

/* S_FMT; the format the driver took is returned in the arguments. */
static void set_fmt(struct node *n, __u32 *fourcc, __u32 *width,
		    __u32 *height, __u32 *sizeimage)
{
	struct v4l2_format f;

	memset(&f, 0, sizeof(f));
	f.type = n->type;
	if (n->mplane) {
		f.fmt.pix_mp.pixelformat = *fourcc;
		f.fmt.pix_mp.width = *width;
		f.fmt.pix_mp.height = *height;
		f.fmt.pix_mp.field = V4L2_FIELD_NONE;
		f.fmt.pix_mp.num_planes = 1;
	} else {
		f.fmt.pix.pixelformat = *fourcc;
		f.fmt.pix.width = *width;
		f.fmt.pix.height = *height;
		f.fmt.pix.field = V4L2_FIELD_NONE;
	}
	if (xioctl(n->fd, VIDIOC_S_FMT, &f))
		die(n->output ? "VIDIOC_S_FMT (output)" : "VIDIOC_S_FMT (capture)");
	if (n->mplane) {
		if (f.fmt.pix_mp.num_planes != 1)
			fail("only single-plane formats are supported");
		*fourcc = f.fmt.pix_mp.pixelformat;
		*width = f.fmt.pix_mp.width;
		*height = f.fmt.pix_mp.height;
		*sizeimage = f.fmt.pix_mp.plane_fmt[0].sizeimage;
	} else {
		*fourcc = f.fmt.pix.pixelformat;
		*width = f.fmt.pix.width;
		*height = f.fmt.pix.height;
		*sizeimage = f.fmt.pix.sizeimage;
	}
}

/*
 * Ask for 1/@fps s; drivers that cannot set the interval of a node (stock
 * vivid's output, its HDMI input) keep theirs. Return what G_PARM reports.
 */
static struct v4l2_fract set_interval(struct node *n, unsigned int fps)
{
	struct v4l2_streamparm parm;
	struct v4l2_fract *tpf = n->output ? &parm.parm.output.timeperframe :
					     &parm.parm.capture.timeperframe;

	memset(&parm, 0, sizeof(parm));
	parm.type = n->type;
	tpf->numerator = 1;
	tpf->denominator = fps;
	if (xioctl(n->fd, VIDIOC_S_PARM, &parm) && errno != ENOTTY &&
	    errno != EINVAL)
		die("VIDIOC_S_PARM");
	memset(&parm, 0, sizeof(parm));
	parm.type = n->type;
	if (xioctl(n->fd, VIDIOC_G_PARM, &parm))
		die(n->output ? "VIDIOC_G_PARM (output)" : "VIDIOC_G_PARM (capture)");
	if (!tpf->numerator || !tpf->denominator) {
		fprintf(stderr, "zc-pipeline: %s reports no frame interval\n",
			n->path);
		exit(1);
	}
	return *tpf;
}

static void setup_formats(struct pipeline *p)
{
	__u32 fourcc = p->fourcc, width = p->width, height = p->height;
	__u32 out_size, cap_size;
	struct v4l2_fract cap_tpf, out_tpf;

	set_fmt(&p->cap, &fourcc, &width, &height, &cap_size);
	p->fourcc = fourcc;
	p->width = width;
	p->height = height;
	set_fmt(&p->out, &fourcc, &width, &height, &out_size);
	if (fourcc != p->fourcc || width != p->width ||
	    height != p->height || out_size != cap_size) {
		fprintf(stderr,
			"zc-pipeline: formats differ: capture %ux%u %.4s (%u bytes), output %ux%u %.4s (%u bytes)\n",
			p->width, p->height, (char *)&p->fourcc, cap_size,
			width, height, (char *)&fourcc, out_size);
		exit(1);
	}
	p->sizeimage = cap_size;

	cap_tpf = set_interval(&p->cap, p->fps);
	out_tpf = set_interval(&p->out, p->fps);
	if ((unsigned long long)cap_tpf.numerator * out_tpf.denominator !=
	    (unsigned long long)out_tpf.numerator * cap_tpf.denominator) {
		fprintf(stderr,
			"zc-pipeline: frame intervals differ: capture %u/%u s, output %u/%u s (set the input and output timings first)\n",
			cap_tpf.numerator, cap_tpf.denominator,
			out_tpf.numerator, out_tpf.denominator);
		exit(1);
	}
	if ((unsigned long long)cap_tpf.numerator * p->fps != cap_tpf.denominator)
		fprintf(stderr,
			"zc-pipeline: note: the nodes run at %u/%u s, not 1/%u s\n",
			cap_tpf.numerator, cap_tpf.denominator, p->fps);
	p->interval = cap_tpf;
}

static void buf_init(const struct node *n, struct v4l2_buffer *b,
		     struct v4l2_plane *plane, unsigned int index)
{
	memset(b, 0, sizeof(*b));
	memset(plane, 0, sizeof(*plane));
	b->type = n->type;
	b->memory = n->memory;
	b->index = index;
	if (n->mplane) {
		b->m.planes = plane;
		b->length = 1;
	}
}

static void request_bufs(struct node *n, __u32 memory,
			 unsigned int count)
{
	struct v4l2_requestbuffers rb;

	memset(&rb, 0, sizeof(rb));
	rb.type = n->type;
	rb.memory = memory;
	rb.count = count;
	if (xioctl(n->fd, VIDIOC_REQBUFS, &rb))
		die(n->output ? "VIDIOC_REQBUFS (output)" : "VIDIOC_REQBUFS (capture)");
	if (rb.count < count || rb.count > MAX_BUFS) {
		fprintf(stderr, "zc-pipeline: %s: asked for %u buffers, got %u\n",
			n->path, count, rb.count);
		exit(1);
	}
	n->memory = memory;
	n->count = rb.count;
}

/* QUERYBUF every buffer of an MMAP queue, and mmap() it if @map. */
static void query_bufs(struct node *n, bool map)
{
	int prot = n->output ? PROT_WRITE : PROT_READ;
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	unsigned int i;
	off_t off;

	for (i = 0; i < n->count; i++) {
		buf_init(n, &b, &plane, i);
		if (xioctl(n->fd, VIDIOC_QUERYBUF, &b))
			die("VIDIOC_QUERYBUF");
		n->len[i] = n->mplane ? plane.length : b.length;
		if (!map)
			continue;
		off = n->mplane ? plane.m.mem_offset : b.m.offset;
		n->mem[i] = mmap(NULL, n->len[i], prot, MAP_SHARED, n->fd, off);
		if (n->mem[i] == MAP_FAILED)
			die("mmap");
	}
}

/* Export every capture buffer read-only: the output only reads it. */
static void export_bufs(struct pipeline *p)
{
	struct v4l2_exportbuffer eb;
	unsigned int i;

	for (i = 0; i < p->cap.count; i++) {
		memset(&eb, 0, sizeof(eb));
		eb.type = p->cap.type;
		eb.index = i;
		eb.flags = O_RDONLY | O_CLOEXEC;
		if (timed_ioctl(&p->expbuf, p->cap.fd, VIDIOC_EXPBUF, &eb))
			die("VIDIOC_EXPBUF");
		p->cap.dmabuf[i] = eb.fd;
	}
}

static void queue_cap(struct pipeline *p, unsigned int index)
{
	struct v4l2_plane plane;
	struct v4l2_buffer b;

	buf_init(&p->cap, &b, &plane, index);
	if (timed_ioctl(when_measuring(p, &p->cap_qbuf), p->cap.fd,
			VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF (capture)");
	p->cap_queued++;
}

/* Queue output buffer @index with the frame of capture buffer @from. */
static void queue_out(struct pipeline *p, unsigned int index,
		      const struct v4l2_buffer *from)
{
	struct v4l2_plane plane;
	struct v4l2_buffer b;

	buf_init(&p->out, &b, &plane, index);
	b.timestamp = from->timestamp;
	b.field = V4L2_FIELD_NONE;
	if (p->out.mplane) {
		plane.bytesused = p->sizeimage;
		if (!p->copy) {
			plane.m.fd = p->cap.dmabuf[from->index];
			plane.length = p->cap.len[from->index];
		}
	} else {
		b.bytesused = p->sizeimage;
		if (!p->copy) {
			b.m.fd = p->cap.dmabuf[from->index];
			b.length = p->cap.len[from->index];
		}
	}
	if (timed_ioctl(when_measuring(p, &p->out_qbuf), p->out.fd,
			VIDIOC_QBUF, &b))
		die("VIDIOC_QBUF (output)");
}

/* DQBUF one buffer; false if none is ready. */
static bool dequeue(struct pipeline *p, struct node *n, struct samples *s,
		    struct v4l2_buffer *b, struct v4l2_plane *plane)
{
	buf_init(n, b, plane, 0);
	if (timed_ioctl(when_measuring(p, s), n->fd, VIDIOC_DQBUF, b)) {
		if (errno == EAGAIN)
			return false;
		die(n->output ? "VIDIOC_DQBUF (output)" : "VIDIOC_DQBUF (capture)");
	}
	if (b->index >= n->count) {
		fprintf(stderr, "zc-pipeline: %s: DQBUF gave index %u of %u\n",
			n->path, b->index, n->count);
		exit(1);
	}
	return true;
}

static void wait_for(const struct node *n)
{
	struct pollfd pfd = { .fd = n->fd,
			      .events = n->output ? POLLOUT : POLLIN };
	int ret;

	do {
		ret = poll(&pfd, 1, POLL_MS);
	} while (ret == -1 && errno == EINTR);
	if (ret < 0)
		die("poll");
	if (!ret) {
		fprintf(stderr, "zc-pipeline: %s: no buffer within %d ms\n",
			n->path, POLL_MS);
		exit(1);
	}
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		fprintf(stderr, "zc-pipeline: %s: poll error 0x%x\n", n->path,
			pfd.revents);
		exit(1);
	}
}

/* Take a buffer the output returned, if any: its frame may be captured again. */
static bool take_out(struct pipeline *p)
{
	struct v4l2_plane plane;
	struct v4l2_buffer b;

	if (!dequeue(p, &p->out, &p->out_dqbuf, &b, &plane))
		return false;
	if (b.flags & V4L2_BUF_FLAG_ERROR)
		p->errors++;
	else if (p->measuring)
		p->out_frames++;
	if (p->copy)
		p->free_out[p->n_free++] = b.index;
	else
		queue_cap(p, b.index);
	return true;
}

/* A frame was captured: pass it on to the output. */
static void take_cap(struct pipeline *p)
{
	struct v4l2_plane plane;
	struct v4l2_buffer b;
	unsigned int out;

	if (!dequeue(p, &p->cap, &p->cap_dqbuf, &b, &plane))
		return;
	p->cap_queued--;
	if (p->captured && p->measuring && b.sequence > p->last_seq + 1)
		p->gaps += b.sequence - p->last_seq - 1;
	p->last_seq = b.sequence;
	p->captured++;
	if (b.flags & V4L2_BUF_FLAG_ERROR) {
		p->errors++;
		queue_cap(p, b.index);
		return;
	}
	if (!p->copy) {
		queue_out(p, b.index, &b);
		return;
	}
	while (!p->n_free) {
		wait_for(&p->out);
		take_out(p);
	}
	out = p->free_out[--p->n_free];
	memcpy(p->out.mem[out], p->cap.mem[b.index], p->sizeimage);
	queue_out(p, out, &b);
	queue_cap(p, b.index);
}

static void stream(struct node *n, unsigned long req)
{
	int type = n->type;

	if (xioctl(n->fd, req, &type))
		die(req == VIDIOC_STREAMON ? "VIDIOC_STREAMON" : "VIDIOC_STREAMOFF");
}

static void start(struct pipeline *p)
{
	unsigned int i;

	request_bufs(&p->cap, V4L2_MEMORY_MMAP, NUM_BUFS);
	query_bufs(&p->cap, p->copy);
	if (p->copy) {
		request_bufs(&p->out, V4L2_MEMORY_MMAP, p->cap.count);
		query_bufs(&p->out, true);
		for (i = 0; i < p->out.count; i++)
			p->free_out[p->n_free++] = i;
	} else {
		export_bufs(p);
		request_bufs(&p->out, V4L2_MEMORY_DMABUF, p->cap.count);
	}
	for (i = 0; i < p->cap.count; i++)
		queue_cap(p, i);
	stream(&p->out, VIDIOC_STREAMON);
	stream(&p->cap, VIDIOC_STREAMON);
}

/*
 * Stream until warm-up plus measured frames are captured. One wake-up per
 * frame: the loop sleeps on the capture node and collects the buffers the
 * output returned after each frame; it sleeps on the output only while no
 * capture buffer is queued.
 */
static void run(struct pipeline *p, struct cpu_mark *begin,
		struct cpu_mark *end)
{
	unsigned int total = p->warmup + p->frames;
	struct pollfd pfd[2];
	int ret, i;

	while (p->captured < total) {
		if (!p->measuring && p->captured == p->warmup) {
			cpu_mark(begin);
			p->measuring = true;
		}
		pfd[0].fd = p->cap.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = p->out.fd;
		pfd[1].events = p->cap_queued ? 0 : POLLOUT;
		ret = poll(pfd, 2, POLL_MS);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			die("poll");
		if (!ret)
			fail("no buffer from either node within 5 s");
		for (i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)))
				continue;
			fprintf(stderr, "zc-pipeline: %s: poll error 0x%x\n",
				i ? p->out.path : p->cap.path, pfd[i].revents);
			exit(1);
		}
		if (pfd[0].revents & POLLIN)
			take_cap(p);
		while (take_out(p))
			;
	}
	cpu_mark(end);
	p->measuring = false;
}

static void cleanup(struct pipeline *p)
{
	struct node *nodes[] = { &p->cap, &p->out };
	unsigned int i, k;

	stream(&p->cap, VIDIOC_STREAMOFF);
	stream(&p->out, VIDIOC_STREAMOFF);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nodes[k]->count; i++) {
			if (nodes[k]->mem[i])
				munmap(nodes[k]->mem[i], nodes[k]->len[i]);
			if (nodes[k]->dmabuf[i] >= 0)
				close(nodes[k]->dmabuf[i]);
		}
		close(nodes[k]->fd);
	}
}

static void print_us(const char *key, double us)
{
	if (us < 0)
		printf(" %s=na", key);
	else
		printf(" %s=%.1f", key, us);
}

static void report(const struct pipeline *p, const struct cpu_mark *begin,
		   const struct cpu_mark *end)
{
	double seconds = (end->wall_ns - begin->wall_ns) / 1e9;
	double proc_us = (end->proc_ns - begin->proc_ns) / 1e3 / p->frames;
	double sys_us = -1;
	double qbuf = median(&p->cap_qbuf, &p->out_qbuf);
	double dqbuf = median(&p->cap_dqbuf, &p->out_dqbuf);
	double expbuf = median(&p->expbuf, NULL);

	if (begin->sys_ns >= 0 && end->sys_ns >= 0)
		sys_us = (end->sys_ns - begin->sys_ns) / 1e3 / p->frames;
	printf("result mode=%s frames=%u warmup=%u fourcc=%.4s size=%ux%u",
	       p->copy ? "copy" : "dmabuf", p->frames, p->warmup,
	       (const char *)&p->fourcc, p->width, p->height);
	printf(" interval=%u/%u buffers=%u seconds=%.3f fps=%.2f cpu_src=%s",
	       p->interval.numerator, p->interval.denominator, p->cap.count,
	       seconds, p->frames / seconds, proc_cpu_src);
	print_us("cpu_us_per_frame", proc_us);
	print_us("sys_cpu_us_per_frame", sys_us);
	printf(" gaps=%u out_frames=%u errors=%u", p->gaps, p->out_frames,
	       p->errors);
	print_us("qbuf_us", qbuf);
	print_us("dqbuf_us", dqbuf);
	print_us("expbuf_us", expbuf);
	print_us("cap_qbuf_us", median(&p->cap_qbuf, NULL));
	print_us("out_qbuf_us", median(&p->out_qbuf, NULL));
	print_us("cap_dqbuf_us", median(&p->cap_dqbuf, NULL));
	print_us("out_dqbuf_us", median(&p->out_dqbuf, NULL));
	printf("\n");

	printf("%s -> %s, %s, %ux%u %.4s at %u/%u s, %u buffers\n",
	       p->cap.path, p->out.path,
	       p->copy ? "MMAP + memcpy" : "DMABUF import of EXPBUF dma-bufs",
	       p->width, p->height, (const char *)&p->fourcc,
	       p->interval.numerator, p->interval.denominator, p->cap.count);
	printf("  %u frames in %.3f s (%.2f frames/s) after %u warm-up frames\n",
	       p->frames, seconds, p->frames / seconds, p->warmup);
	printf("  CPU per frame: process %.0f us (%s), whole system %.0f us\n",
	       proc_us, proc_cpu_src, sys_us);
	printf("  capture frames dropped (sequence gaps) %u\n", p->gaps);
	printf("  output buffers consumed %u, buffers with errors %u\n",
	       p->out_frames, p->errors);
	printf("  median QBUF %.1f us (capture %.1f, output %.1f)\n", qbuf,
	       median(&p->cap_qbuf, NULL), median(&p->out_qbuf, NULL));
	printf("  median DQBUF %.1f us (capture %.1f, output %.1f)\n", dqbuf,
	       median(&p->cap_dqbuf, NULL), median(&p->out_dqbuf, NULL));
	printf("  median EXPBUF %.1f us\n", expbuf);
}

static unsigned int parse_uint(const char *s, unsigned int min)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 1000000)
		bad_usage();
	return v;
}

int main(int argc, char **argv)
{
	struct pipeline p = { .fourcc = V4L2_PIX_FMT_YUYV, .width = 1920,
			      .height = 1080, .fps = 15, .frames = 120,
			      .warmup = 10 };
	struct cpu_mark begin = { 0 }, end = { 0 };
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "c:o:m:f:s:r:n:w:")) != -1) {
		switch (opt) {
		case 'c':
			p.cap.path = optarg;
			break;
		case 'o':
			p.out.path = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "copy"))
				p.copy = true;
			else if (strcmp(optarg, "dmabuf"))
				bad_usage();
			break;
		case 'f':
			if (strlen(optarg) != 4)
				bad_usage();
			p.fourcc = v4l2_fourcc(optarg[0], optarg[1], optarg[2],
					       optarg[3]);
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &p.width, &p.height) != 2)
				bad_usage();
			break;
		case 'r':
			p.fps = parse_uint(optarg, 1);
			break;
		case 'n':
			p.frames = parse_uint(optarg, 1);
			break;
		case 'w':
			p.warmup = parse_uint(optarg, 0);
			break;
		default:
			bad_usage();
		}
	}
	if (!p.cap.path || !p.out.path || optind != argc)
		bad_usage();
	for (i = 0; i < MAX_BUFS; i++) {
		p.cap.dmabuf[i] = -1;
		p.out.dmabuf[i] = -1;
	}
	samples_init(&p.cap_qbuf, p.frames + MAX_BUFS);
	samples_init(&p.cap_dqbuf, p.frames + MAX_BUFS);
	samples_init(&p.out_qbuf, p.frames + MAX_BUFS);
	samples_init(&p.out_dqbuf, p.frames + MAX_BUFS);
	samples_init(&p.expbuf, MAX_BUFS);

	open_node(&p.cap, false);
	open_node(&p.out, true);
	setup_formats(&p);
	start(&p);
	run(&p, &begin, &end);
	cleanup(&p);
	report(&p, &begin, &end);
	if (p.errors) {
		fprintf(stderr, "zc-pipeline: %u buffers came back with V4L2_BUF_FLAG_ERROR\n",
			p.errors);
		return 1;
	}
	return 0;
}
