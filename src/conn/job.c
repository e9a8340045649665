/* bgapi jobs. Every bgapi carries a Job-UUID (ours when the user gave
 * none), so its BACKGROUND_JOB event is matched by id. Those events are
 * broadcast to every client subscribed to them: ids that are not ours are
 * ignored here (the hooks still see the event). */
#include <string.h>

#include <vox/conn.h>

#include "conn_int.h"

void vox__job_event(vox_conn *c, const vox_event *ev)
{
    const char *id = vox_event_get(ev, "Job-UUID");
    for (vox__op *op = c->live_head; op; op = op->lnext) {
        /* only once the +OK armed it: the reply always comes first */
        if (op->kind == VOX__OP_BGAPI && op->replied && vox__str_eq(op->id, id)) {
            vox__op_complete(c, op, 0, NULL, ev);
            return;
        }
    }
}

static int job_check(const vox_conn *c, const char *job_uuid, char *job_out, size_t out_size)
{
    int rc = vox__req_check(c);
    if (rc)
        return rc;
    size_t n = job_uuid ? strlen(job_uuid) : 36;
    if (job_uuid && (!n || n >= VOX__ID_MAX))
        return VOX_EINVAL;
    if (job_out && out_size < (n + 1 > 37 ? n + 1 : 37))
        return VOX_EINVAL;
    return 0;
}

int vox_conn_bgapi(vox_conn *c, const char *cmd, const char *args, const char *job_uuid,
                   char *job_out, size_t job_out_size, uint32_t timeout_ms, vox_job_cb cb,
                   void *userdata)
{
    int rc = job_check(c, job_uuid, job_out, job_out_size);
    if (rc)
        return rc;
    vox__op *op = vox__op_new(c, VOX__OP_BGAPI, timeout_ms);
    if (!op)
        return VOX_ENOMEM;
    if (job_uuid)
        memcpy(op->id, job_uuid, strlen(job_uuid) + 1);
    else
        vox__uuid(c, op->id);
    rc = vox_cmd_bgapi(vox__req_buf(c), cmd, args, op->id);
    if (rc) {
        vox__op_discard(op);
        return rc;
    }
    if (job_out)
        memcpy(job_out, op->id, strlen(op->id) + 1);
    op->cb.job = cb;
    op->ud = userdata;
    vox__op_submit(c, op);
    return 0;
}
