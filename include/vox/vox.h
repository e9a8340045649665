/* libvox — a C library for FreeSWITCH's event socket. Include this one. */
#ifndef VOX_VOX_H
#define VOX_VOX_H

#include <vox/common.h>
#include <vox/proto.h>
#include <vox/conn.h>
#include <vox/client.h>
#include <vox/server.h>
#include <vox/app.h>

#endif
