/*
 * version.h - the one place the leafpack version comes from (set by the
 * Makefile from its VERSION variable).
 */
#ifndef LEAFPACK_VERSION_H
#define LEAFPACK_VERSION_H

#ifndef LEAFPACK_VERSION
#define LEAFPACK_VERSION "unknown"
#endif

#endif
