/*
 * xstd.h - the thin layer over libc that every leafpack program uses:
 * whole reads and writes, checked closes, close-on-exec pipes, and the
 * standard descriptors made safe.
 *
 * The read and write loops retry EINTR: they are for pipes, sockets and
 * files whose interruption means nothing.  A call that a timer is meant
 * to interrupt (a directory read under alarm()) is never made through them.
 * All functions return -1 with errno set on failure and print nothing.
 */
#ifndef LEAFPACK_XSTD_H
#define LEAFPACK_XSTD_H

#include <stddef.h>
#include <sys/types.h>

/* The number of elements of an array (not a pointer). */
#define countof(array) (sizeof(array) / sizeof((array)[0]))

/*
 * Reads until len bytes are in buf or the end of the file.  Returns the
 * bytes read (fewer than len only at the end), or -1 (what was read before
 * the error is lost to the caller).
 */
ssize_t xread(int fd, void *buf, size_t len);

/* pread(2) of up to len bytes at off, retrying EINTR (one call's worth,
 * not a loop to len: a short read is returned as it is). */
ssize_t xpread(int fd, void *buf, size_t len, off_t off);

/* Writes all len bytes.  Returns 0, or -1 (some may have been written). */
int xwrite(int fd, const void *buf, size_t len);

/*
 * xwrite() that fails with EPIPE where the reader is gone, instead of
 * raising SIGPIPE: the signal is blocked around the write and a pending
 * one it raised is consumed.  For a parent writing to its children.
 */
int xwrite_nosigpipe(int fd, const void *buf, size_t len);

/*
 * close(2) that reports what the file system reported (EIO, ENOSPC on a
 * network file system) but not EINTR: on Linux the descriptor is closed
 * whatever close() returns, so it is never retried.  fd < 0 is a no-op.
 */
int xclose(int fd);

/* Closes *fd if it is open and sets it to -1; errors are dropped. */
void close_quietly(int *fd);

/* pipe2(O_CLOEXEC), with flags (O_NONBLOCK) added to both ends. */
int pipe_cloexec(int fds[2], int flags);

/* A copy of fd, close-on-exec, numbered 3 or above. */
int dup_cloexec(int fd);

/* Sets or clears O_NONBLOCK on fd. */
int set_nonblock(int fd, int on);

/*
 * Opens /dev/null on whichever of 0, 1 and 2 are closed, so that no pipe
 * or file of ours lands on a standard descriptor: stdin write-only, stdout
 * and stderr read-only, so that reading or writing them still fails with
 * EBADF, as on the closed descriptor.  Returns -1 if it cannot.
 */
int open_std_fds(void);

#endif
