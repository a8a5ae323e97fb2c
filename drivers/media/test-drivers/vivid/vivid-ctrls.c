// SPDX-License-Identifier: GPL-2.0
/*
 * The controls of a vivid-expbuf instance
 */
#include <linux/kernel.h>
#include <media/v4l2-ctrls.h>

#include "vivid-core.h"

static const char * const vivid_pattern_menu[] = {
	"Colour Bars",
	"Black",
};

static int vivid_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct vivid_dev *dev = container_of(ctrl->handler, struct vivid_dev,
					     ctrl_handler);

	switch (ctrl->id) {
	case V4L2_CID_HFLIP:
		WRITE_ONCE(dev->hflip, ctrl->val);
		return 0;
	case V4L2_CID_TEST_PATTERN:
		WRITE_ONCE(dev->test_pattern, ctrl->val);
		return 0;
	case VIVID_CID_LOOPBACK:
		WRITE_ONCE(dev->loopback, ctrl->val);
		return 0;
	}
	return -EINVAL;
}

static const struct v4l2_ctrl_ops vivid_ctrl_ops = {
	.s_ctrl = vivid_s_ctrl,
};

static const struct v4l2_ctrl_config vivid_ctrl_loopback = {
	.ops	= &vivid_ctrl_ops,
	.id	= VIVID_CID_LOOPBACK,
	.name	= "Loopback",
	.type	= V4L2_CTRL_TYPE_BOOLEAN,
	.max	= 1,
	.step	= 1,
};

/**
 * vivid_ctrls_init() - create the controls of an instance
 * @dev: the instance
 *
 * Creates V4L2_CID_HFLIP, V4L2_CID_TEST_PATTERN and the private Loopback
 * control in &vivid_dev.ctrl_handler and applies their defaults. The handler is
 * freed with v4l2_ctrl_handler_free() from the instance's release, also
 * after a failure here.
 *
 * Return: 0 or a negative errno.
 */
int vivid_ctrls_init(struct vivid_dev *dev)
{
	struct v4l2_ctrl_handler *hdl = &dev->ctrl_handler;

	v4l2_ctrl_handler_init(hdl, 3);
	v4l2_ctrl_new_std(hdl, &vivid_ctrl_ops, V4L2_CID_HFLIP, 0, 1, 1, 0);
	v4l2_ctrl_new_std_menu_items(hdl, &vivid_ctrl_ops,
				     V4L2_CID_TEST_PATTERN,
				     ARRAY_SIZE(vivid_pattern_menu) - 1, 0,
				     VIVID_PATTERN_BARS, vivid_pattern_menu);
	v4l2_ctrl_new_custom(hdl, &vivid_ctrl_loopback, NULL);
	if (hdl->error)
		return hdl->error;
	dev->v4l2_dev.ctrl_handler = hdl;
	return v4l2_ctrl_handler_setup(hdl);
}
