# SPDX-License-Identifier: GPL-2.0
vb2x-objs := vb2x-budget.o vb2x-core.o vb2x-dmabuf-import.o vb2x-fence.o \
	     vb2x-v4l2.o vb2x-mem.o vb2x-mem-dmabuf.o vb2x-vmalloc.o \
	     vb2x-dma-contig.o
