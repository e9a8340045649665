/* vox-sim bridge: the application (a dial string's attempt, then the legs
 * joined with CHANNEL_BRIDGE, or the failure's variables and
 * continue_on_fail), and bridging two channels (uuid_bridge too). */
#include <stdio.h>
#include <string.h>

#include "apps.h"

static void bridge_event(sim_chan *a, sim_chan *b, const char *name)
{
    sim_event *e = sim__event_new(a->s, name, NULL);
    if (!e)
        return;
    sim__event_add(e, "Bridge-A-Unique-ID", a->uuid);
    sim__event_add(e, "Bridge-B-Unique-ID", b->uuid);
    sim__chan_add_headers(a, e, true);
    sim__fire(a->s, e);
}

void sim__bridge(sim_chan *ch, sim_chan *leg)
{
    memcpy(ch->peer, leg->uuid, sizeof ch->peer);
    memcpy(leg->peer, ch->uuid, sizeof leg->peer);
    ch->peer_kind = PEER_LEG;
    leg->peer_kind = PEER_CALLER;
    ch->bridged = leg->bridged = true;
    ch->bridge_b = false;
    leg->bridge_b = true;
    ch->t_bridged = leg->t_bridged = sim__now_us(ch->s);
    sim__var_set(ch, "bridge_uuid", leg->uuid);
    sim__var_set(leg, "bridge_uuid", ch->uuid);
    sim__chan_state(leg, CS_EXCHANGE_MEDIA);
    bridge_event(ch, leg, "CHANNEL_BRIDGE");
}

void sim__unbridge(sim_chan *ch, sim_chan *leg)
{
    if (!ch->bridged)
        return;
    ch->bridged = leg->bridged = false;
    bridge_event(ch, leg, "CHANNEL_UNBRIDGE");
}

/* switch_ivr_originate's DIALSTATUS for a failure cause. */
static const char *dialstatus(const char *cause)
{
    static const char *const map[][2] = {
        {"ORIGINATOR_CANCEL", "CANCEL"}, {"USER_BUSY", "BUSY"},
        {"NO_ANSWER", "NOANSWER"},       {"NO_USER_RESPONSE", "NOANSWER"},
        {"CALL_REJECTED", "DONTCALL"},   {"INVALID_NUMBER_FORMAT", "INVALIDARGS"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(cause, map[i][0]))
            return map[i][1];
    return cause;
}

static sim_run *bridge_run(sim_chan *ch)
{
    sim_run *r = sim__app_top(ch);
    return r && !strcmp(r->name, "bridge") ? r : NULL;
}

static void bridge_cb(sim *s, void *ud, sim_chan *leg, const char *cause)
{
    (void)s;
    sim_chan *ch = ud;
    sim_run *r = bridge_run(ch);
    ch->dial = NULL;
    if (r)
        r->dial = NULL;
    if (!r || !sim__chan_up(ch)) {
        if (leg)
            sim__chan_hangup(leg, "ORIGINATOR_CANCEL");
        return;
    }
    char causes[1024];
    snprintf(causes, sizeof causes, "%s",
             sim__var(ch, "originate_causes") ? sim__var(ch, "originate_causes") : "");
    if (leg) {
        sim__var_set(ch, "originate_disposition", "SUCCESS");
        sim__var_set(ch, "DIALSTATUS", "SUCCESS");
        sim__var_set(ch, "last_bridge_to", leg->uuid);
        sim__var_set(ch, "bridge_channel", leg->name);
        sim__var_set(ch, "signal_bond", leg->uuid);
        sim__chan_answer(ch);
        sim__bridge(ch, leg);
        sim__account(ch, "bridge %s: answered by %s", r->arg, leg->name);
        return;
    }
    sim__var_set(ch, "last_bridge_hangup_cause", cause);
    sim__var_set(ch, "originate_disposition", cause);
    sim__var_set(ch, "DIALSTATUS", dialstatus(cause));
    if (*causes)
        sim__var_set(ch, "originate_causes", causes);
    sim__var_set(ch, "originate_failed_cause", cause);
    sim__account(ch, "bridge %s: failed %s", r->arg, cause);
    const char *cof = sim__var(ch, "continue_on_fail");
    if (sim__true(cof) || (cof && strstr(cof, cause)))
        sim__app_done(ch, NULL);
    else
        sim__chan_hangup(ch, cause);
}

void sim__apps_leg_gone(sim_chan *ch, sim_chan *leg)
{
    if (!sim__chan_up(ch))
        return;
    sim__var_set(ch, "last_bridge_hangup_cause", leg->cause);
    if (!bridge_run(ch))
        return;
    sim__account(ch, "bridge ended: %s hung up (%s)", leg->name, leg->cause);
    if (sim__true(sim__var(ch, "hangup_after_bridge")))
        sim__chan_hangup(ch, "NORMAL_CLEARING");
    else
        sim__app_done(ch, NULL);
}

void sim__app_bridge(sim_chan *ch, sim_run *r)
{
    sim_dial *d = sim__dial(ch->s, r->arg, ch, bridge_cb, ch);
    if (!d) {
        sim__account(ch, "bridge %s: out of memory", r->arg);
        sim__app_done_none(ch, r);
        return;
    }
    r->dial = d;
    ch->dial = d;
}
