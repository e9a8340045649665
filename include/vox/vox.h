/* libvox — a C library for FreeSWITCH's event socket. Include this one. */
#ifndef VOX_VOX_H
#define VOX_VOX_H

#include <vox/common.h>
#include <vox/proto.h>
#include <vox/conn.h>

#endif
