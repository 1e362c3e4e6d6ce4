#pragma once
/*
 * uaccess.h - the only ways the kernel touches user memory
 *
 * Each checks that the whole range lies in the user half without wrapping,
 * sets sstatus.SUM for the copy alone, and copies with instructions listed
 * in the exception table: a page fault there first tries to fault the page
 * in (demand-zero regions), and if it cannot, the copy stops and returns
 * -E_FAULT. Never a panic.
 */
#include <kern/types.h>

int copy_from_user(void *dst, const void *usrc, size_t len);
int copy_to_user(void *udst, const void *src, size_t len);
