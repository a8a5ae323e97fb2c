// SPDX-License-Identifier: GPL-2.0-only
/*
 * pattern-check: check a file of raw frames, written by a client of a
 * vivid-expbuf capture node (GStreamer's filesink, v4l2-ctl --stream-to),
 * against the device's test pattern.
 *
 * usage: pattern-check -f YUYV|NV12 -s WxH [-n frames] FILE
 *
 * For each frame it reads the sequence number from the counter band, draws
 * the pattern for that sequence with V4L2_CID_HFLIP 0 and 1 and prints
 *   frame I sequence S plain|mirrored|bad (first difference at x,y plane P)
 * then a summary line "N frames: P plain, M mirrored, B bad". A frame
 * matches only if every byte equals the drawn pattern. Exit status 0 when
 * the file holds whole frames (exactly -n of them, if given) and none is
 * bad, 1 otherwise, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vivid-pattern.h"

static void print_usage(void)
{
	fprintf(stderr,
		"usage: pattern-check -f YUYV|NV12 -s WxH [-n frames] FILE\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "pattern-check: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Print where byte @offset of a frame lies: pixel and plane. */
static void print_position(const struct vpat_frame *f, long offset)
{
	size_t luma_size = (size_t)f->width * f->height;
	size_t pos = offset;

	if (f->fourcc == V4L2_PIX_FMT_YUYV) {
		pos /= 2;
		printf("%zu,%zu plane 0", pos % f->width, pos / f->width);
	} else if (pos < luma_size) {
		printf("%zu,%zu plane 0", pos % f->width, pos / f->width);
	} else {
		pos -= luma_size;
		printf("%zu,%zu plane 1", pos % f->width & ~(size_t)1,
		       pos / f->width * 2);
	}
}

int main(int argc, char **argv)
{
	struct vpat_frame f = { 0 };
	size_t size, got;
	unsigned int plain = 0, mirrored = 0, bad = 0, index = 0;
	int opt, want = -1;
	uint8_t *frame, *expected;
	FILE *fp;

	while ((opt = getopt(argc, argv, "f:s:n:")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "YUYV"))
				f.fourcc = V4L2_PIX_FMT_YUYV;
			else if (!strcmp(optarg, "NV12"))
				f.fourcc = V4L2_PIX_FMT_NV12;
			else
				print_usage();
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &f.width, &f.height) != 2)
				print_usage();
			break;
		case 'n':
			want = atoi(optarg);
			break;
		default:
			print_usage();
		}
	}
	if (optind != argc - 1 || !f.fourcc || f.width < 16 ||
	    f.height < 16 || f.width % 2 || f.height % 2)
		print_usage();
	size = vpat_frame_size(&f);
	frame = malloc(size);
	expected = malloc(size);
	if (!frame || !expected)
		die("malloc");
	fp = fopen(argv[optind], "rb");
	if (!fp)
		die(argv[optind]);
	while ((got = fread(frame, 1, size, fp)) == size) {
		uint32_t sequence = vpat_read_counter(&f, frame);
		long diff;

		printf("frame %u sequence %u ", index++, sequence);
		vpat_draw(&f, 0, sequence, expected);
		diff = vpat_first_diff(frame, expected, size);
		if (diff < 0) {
			plain++;
			printf("plain\n");
			continue;
		}
		vpat_draw(&f, 1, sequence, expected);
		if (vpat_first_diff(frame, expected, size) < 0) {
			mirrored++;
			printf("mirrored\n");
			continue;
		}
		bad++;
		printf("bad (first difference at ");
		print_position(&f, diff);
		printf(")\n");
	}
	if (ferror(fp))
		die(argv[optind]);
	fclose(fp);
	printf("%u frames: %u plain, %u mirrored, %u bad\n", index, plain,
	       mirrored, bad);
	if (got) {
		printf("a partial frame of %zu bytes at the end\n", got);
		return 1;
	}
	if (want >= 0 && index != (unsigned int)want) {
		printf("expected %d frames\n", want);
		return 1;
	}
	return bad ? 1 : 0;
}
