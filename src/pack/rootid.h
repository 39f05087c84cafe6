/*
 * rootid.h - leafpack --root-id: what a host of leafpack --hosts must
 * print as this one does before it is given any work (hosts.h): the same
 * version, and the same tree under the same path.
 */
#ifndef LEAFPACK_PACK_ROOTID_H
#define LEAFPACK_PACK_ROOTID_H

#include "context.h"

/*
 * leafpack --root-id ROOT...: prints "leafpack VERSION", then for each root
 * "ID ROOT", where ID (16 hex digits) is a hash of the file ROOT/.leafpack-root
 * when there is one (a name for the tree that the user makes), else of the
 * names in ROOT, sorted (the device number differs between the hosts of
 * one share; the names are the same tree).  A root it cannot read prints
 * "- ROOT" and makes the status 4.  The whole look is bounded by -t (an
 * alarm ends the process).  Returns the exit status.
 */
int rootid_print(const struct context *ctx);

#endif
