// SPDX-License-Identifier: GPL-2.0
/*
 * A module that only provokes a kernel WARN when loaded.  The harness
 * self-test loads it to prove that a WARN in the guest log fails a run even
 * when every test case passed.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init harness_warn_init(void)
{
	WARN(1, "dmirror harness self-test: deliberate warning\n");
	return 0;
}

static void __exit harness_warn_exit(void)
{
}

module_init(harness_warn_init);
module_exit(harness_warn_exit);
MODULE_DESCRIPTION("dmirror harness self-test: provokes one WARN");
MODULE_LICENSE("GPL");
