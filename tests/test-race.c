// SPDX-License-Identifier: GPL-2.0-only
/*
 * Races: the life cycle of a capture queue (REQBUFS, EXPBUF, QBUF,
 * STREAMON, STREAMOFF, REQBUFS(0)) runs in one thread while others, at the
 * same time and without any coordination:
 *
 * - dequeue and requeue on the same file handle, and mmap() buffers
 *   through it (QUERYBUF, mmap, read, munmap);
 * - use the dma-bufs it exported: lseek, mmap and read, DMA_BUF_IOCTL_SYNC,
 *   EXPORT_SYNC_FILE and poll on the sync_file, close;
 * - open the node again, try to take the queue (REQBUFS, EXPBUF) and close;
 * - import those dma-bufs into the instance's output queue and stream it.
 *
 * The checks are that every thread made progress, that the kernel survived
 * (the harness fails on any WARNING, BUG or Oops in the guest's log), that
 * no file descriptor leaked and that both queues work afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#include "sync-lib.h"
#include "v4l2-lib.h"

#define RUN_SEC		8
#define NBUFS		4
#define NSLOTS		8
#define WIDTH		320
#define HEIGHT		240

static struct vlib_dev cap, out;
static char out_path[64];
static bool have_out;

static atomic_bool stop;
/* exported dma-bufs handed from the life cycle to the users; 0 = empty */
static atomic_int slots[NSLOTS];

static atomic_long cycles, dequeued, mapped, dmabuf_used, foreign_opens;
static atomic_long imported, out_done;
/* sum of the bytes read through mappings, so the reads stay */
static atomic_uint byte_sum;

/* Puts dma-buf @fd in a slot, closing what the slot held. */
static void slot_put(unsigned int i, int fd)
{
	int old = atomic_exchange(&slots[i % NSLOTS], fd);

	if (old > 0)
		close(old);
}

/* Takes a dma-buf out of a random slot; 0 if it was empty. */
static int slot_take(unsigned int seed)
{
	return atomic_exchange(&slots[seed % NSLOTS], 0);
}

static void *life_cycle(void *arg)
{
	unsigned int seed = 1, i;
	int count, fd;

	(void)arg;
	while (!stop) {
		count = vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, NBUFS, NULL);
		for (i = 0; count > 0 && i < (unsigned int)count; i++) {
			fd = vlib_expbuf(&cap, i, 0, O_RDWR | O_CLOEXEC);
			if (fd >= 0)
				slot_put(rand_r(&seed), fd);
			vlib_qbuf_mmap(&cap, i);
		}
		vlib_streamon(&cap);
		usleep(rand_r(&seed) % 60000);
		if (rand_r(&seed) & 1)
			vlib_streamoff(&cap);
		vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);
		cycles++;
	}
	return NULL;
}

static void *dequeue_and_map(void *arg)
{
	unsigned int seed = 2;
	struct vlib_frame fr;
	struct vlib_buf buf;

	(void)arg;
	while (!stop) {
		if (!vlib_dqbuf(&cap, V4L2_MEMORY_MMAP, &fr, 20)) {
			dequeued++;
			vlib_qbuf_mmap(&cap, fr.buf.index);
		}
		if (!vlib_mmap_buf(&cap, rand_r(&seed) % NBUFS, &buf)) {
			byte_sum += ((uint8_t *)buf.start[0])[buf.length[0] - 1];
			vlib_unmap_buf(&buf);
			mapped++;
		}
	}
	return NULL;
}

/* Reads the last byte of dma-buf @fd through a mapping; -1 on failure. */
static int dmabuf_touch(int fd)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START |
					      DMA_BUF_SYNC_READ };
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *map;
	int ret = -1;

	if (size <= 0)
		return -1;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	if (!ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync)) {
		byte_sum += map[size - 1];
		sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	}
	munmap(map, size);
	return ret;
}

static void *use_dmabufs(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	int fd, sync_fd;

	while (!stop) {
		fd = slot_take(rand_r(&seed));
		if (fd <= 0) {
			usleep(500);
			continue;
		}
		if (!dmabuf_touch(fd))
			dmabuf_used++;
		sync_fd = sync_export(fd, DMA_BUF_SYNC_READ);
		if (sync_fd >= 0) {
			sync_poll(sync_fd, POLLIN, rand_r(&seed) % 30);
			close(sync_fd);
		}
		close(fd);
	}
	return NULL;
}

static void *foreign_handle(void *arg)
{
	struct vlib_dev other;
	int fd;

	(void)arg;
	while (!stop) {
		if (vlib_open(&other, cap.path, O_NONBLOCK))
			continue;
		vlib_reqbufs(&other, V4L2_MEMORY_MMAP, 2, NULL);
		fd = vlib_expbuf(&other, 0, 0, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		vlib_close(&other);
		foreign_opens++;
	}
	return NULL;
}

static void *import_to_output(void *arg)
{
	unsigned int seed = 3, i;
	struct vlib_frame fr;
	int fd;

	(void)arg;
	while (!stop) {
		vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, NBUFS, NULL);
		for (i = 0; i < NBUFS; i++) {
			fd = slot_take(rand_r(&seed));
			if (fd <= 0)
				continue;
			if (!vlib_qbuf_dmabuf(&out, i, &fd, 1, NULL))
				imported++;
			close(fd);
		}
		vlib_streamon(&out);
		if (!vlib_dqbuf(&out, V4L2_MEMORY_DMABUF, &fr,
				rand_r(&seed) % 150))
			out_done++;
		if (rand_r(&seed) & 1)
			vlib_streamoff(&out);
		vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	}
	vlib_streamoff(&out);
	vlib_reqbufs(&out, V4L2_MEMORY_DMABUF, 0, NULL);
	return NULL;
}

static int open_fds(void)
{
	struct dirent *de;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)))
		n += de->d_name[0] != '.';
	closedir(dir);
	return n;
}

int main(int argc, char **argv)
{
	void *(*fns[])(void *) = { life_cycle, dequeue_and_map, use_dmabufs,
				   use_dmabufs, foreign_handle,
				   import_to_output };
	unsigned int n = ARRAY_SIZE(fns), i;
	pthread_t threads[ARRAY_SIZE(fns)];
	char why[256] = "";
	int fds_before, fds_after;
	struct vlib_fmt fmt;

	vlib_start(argc, argv, &cap, NULL);
	tap_plan(5);
	/* A DQBUF racing with STREAMOFF must not block the thread. */
	fcntl(cap.fd, F_SETFL, fcntl(cap.fd, F_GETFL) | O_NONBLOCK);
	fds_before = open_fds();
	have_out = !vlib_find_output(cap.path, out_path, sizeof(out_path)) &&
		   !vlib_open(&out, out_path, 0);
	/* Exports fit the output's buffers; both run at 30 fps. */
	if (vlib_set_fmt(&cap, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt) ||
	    vlib_set_fps(&cap, 1, 30) ||
	    (have_out &&
	     (vlib_set_fmt(&out, V4L2_PIX_FMT_YUYV, WIDTH, HEIGHT, &fmt) ||
	      vlib_set_fps(&out, 1, 30))))
		tap_diag("S_FMT/S_PARM: %s", strerror(errno));
	if (!have_out)
		n--;
	tap_diag("%u threads for %u s, output %s", n, RUN_SEC,
		 have_out ? out_path : "none");
	for (i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, fns[i],
			       (void *)(uintptr_t)(10 + i));
	sleep(RUN_SEC);
	stop = true;
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < NSLOTS; i++)
		slot_put(i, 0);
	vlib_streamoff(&cap);
	vlib_reqbufs(&cap, V4L2_MEMORY_MMAP, 0, NULL);

	tap_diag("%ld queue cycles, %ld dequeued, %ld mapped, %ld dma-bufs used",
		 (long)cycles, (long)dequeued, (long)mapped,
		 (long)dmabuf_used);
	tap_diag("%ld foreign opens, byte sum %u", (long)foreign_opens,
		 (unsigned int)byte_sum);
	tap_ok(cycles > 0 && dequeued > 0 && mapped > 0 && dmabuf_used > 0 &&
	       foreign_opens > 0,
	       "race: every thread made progress against the queue's life cycle");
	if (have_out) {
		tap_diag("%ld imports queued, %ld output buffers done",
			 (long)imported, (long)out_done);
		tap_ok(imported > 0 && out_done > 0,
		       "race: the output queue imported and consumed exports meanwhile");
	} else {
		tap_skip("no output node",
			 "race: the output queue imported and consumed exports meanwhile");
	}
	fds_after = open_fds();
	if (!tap_ok(fds_before >= 0 && fds_after == fds_before + have_out,
		    "race: no file descriptor left open"))
		tap_diag("%d open before, %d after", fds_before, fds_after);
	if (!tap_ok(!vlib_smoke_stream(&cap, why, sizeof(why)),
		    "race: the capture queue streams afterwards"))
		tap_diag("%s", why);
	if (have_out) {
		if (!tap_ok(vlib_reqbufs(&out, V4L2_MEMORY_MMAP, NBUFS,
					 NULL) > 0 &&
			    !vlib_reqbufs(&out, V4L2_MEMORY_MMAP, 0, NULL),
			    "race: the output queue takes buffers afterwards"))
			tap_diag("REQBUFS: %s", strerror(errno));
		vlib_close(&out);
	} else {
		tap_skip("no output node",
			 "race: the output queue takes buffers afterwards");
	}
	vlib_close(&cap);
	return tap_done();
}
